"""Reply subjects as mail clients expect them: one "Re:", whatever prefixes the customer's subject stacked."""

from __future__ import annotations

import pytest

from helpline.channels.email.compose import reply_subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Pedido 1234", "Re: Pedido 1234 [#7]"),
        ("Re: Pedido 1234", "Re: Pedido 1234 [#7]"),
        ("Re: Re: RE: Pedido 1234", "Re: Pedido 1234 [#7]"),
        ("Fwd: Re: Claim", "Re: Claim [#7]"),
        ("FW: RE: Claim", "Re: Claim [#7]"),
        ("AW: WG: Schaden", "Re: Schaden [#7]"),
        ("Res: Enc: Sinistro do carro", "Re: Sinistro do carro [#7]"),
        ("RV: Re: Siniestro", "Re: Siniestro [#7]"),
        ("TR : RE : Sinistre", "Re: Sinistre [#7]"),
        ("Re[2]: Re^3: Antw: Schade", "Re: Schade [#7]"),
        ("Re: Pedido [#7]", "Re: Pedido [#7]"),
        ("Re: Pedido [#3] [#7]", "Re: Pedido [#7]"),  # an older conversation's token gives way to this one's
        ("Refund please", "Re: Refund please [#7]"),  # a word starting like a prefix is the subject itself
        ("Re:", ""),
        ("   ", ""),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject, "[#7]") == expected


def test_without_a_token_the_subject_keeps_its_own() -> None:
    # The demo's simulated customer answers like a real client: one "Re:", the conversation's token kept.
    assert reply_subject("Re: Sinistro do carro [#12]") == "Re: Sinistro do carro [#12]"
    assert reply_subject("Re: Re: Sinistro do carro [#12]") == "Re: Sinistro do carro [#12]"
