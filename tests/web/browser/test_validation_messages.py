"""A validation error (422) in Chromium: the API's problems become "Field: reason" sentences in the operator's
language, through the real modules (problems.js, api.js) and catalogues; the server's English stays on the error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.web.browser.test_conversation_modules import ORIGIN, _serve, run

# What POST /operators answers for {"name": "", "email": "bad", "role": "boss"} (tests/test_bad_input.py checks the
# shape); `field` paths as the API writes them.
BODY = {
    "error": {
        "code": "invalid",
        "message": "name: String should have at least 1 character; role: Input should be 'agent', 'supervisor' …",
        "details": {
            "errors": ["name: String should have at least 1 character"],
            "problems": [
                {"field": "name", "type": "string_too_short", "ctx": {"min_length": 1}, "message": "String should…"},
                {
                    "field": "role",
                    "type": "literal_error",
                    "ctx": {"expected": "'agent', 'supervisor' or 'admin'"},
                    "message": "Input should be…",
                },
                {"field": "steps.2.question", "type": "string_too_long", "ctx": {"max_length": 500}, "message": "…"},
                {"field": "query.limit", "type": "less_than_equal", "ctx": {"le": 200}, "message": "…"},
                {"field": "email", "type": "value_error", "ctx": {}, "message": "Value error, not an e-mail address"},
                {"field": "password", "type": "missing", "ctx": {}, "message": "Field required"},
                {"field": "brand_new_field", "type": "brand_new_type", "ctx": {}, "message": "Something new"},
            ],
        },
    }
}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US")
    context.route(f"{ORIGIN}/**", _serve)

    def answer(route: object) -> None:
        route.fulfill(status=422, json=BODY)  # type: ignore[attr-defined]

    context.route(f"{ORIGIN}/api/v1/operators", answer)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{ORIGIN}/blank")
    yield tab
    context.close()
    assert not errors, errors


SCRIPT = """
const i18n = await m('/js/i18n.js');
await i18n.setLocale(arg);
const { post, ApiError } = await m('/js/api.js');
const { problemsOf } = await m('/js/problems.js');
const { serverProblems } = await m('/js/admin/kit.js');
let err = null;
try { await post('/operators', { name: '' }); } catch (e) { err = e; }
return {
  isApi: err instanceof ApiError, status: err.status, code: err.code, message: err.message, server: err.serverMessage,
  problems: problemsOf(err.details).map((p) => p.text),
  forms: serverProblems(err).map((p) => [p.path, p.message]),
};
"""


def test_validation_problems_read_as_sentences_in_english(page: Page) -> None:
    result = run(page, SCRIPT, "en")
    assert result["isApi"] and result["status"] == 422 and result["code"] == "invalid"
    assert result["server"] == BODY["error"]["message"]
    assert result["problems"] == [
        "Name: at least 1 character.",
        "Role: must be one of 'agent', 'supervisor', or 'admin'.",
        "Question: at most 500 characters.",
        "Number of items: must be 200 or less.",
        "E-mail: is not valid (not an e-mail address).",
        "Password: required.",
        "brand new field: is not valid (Something new).",
    ]
    assert result["message"] == " ".join(result["problems"])
    # A form puts the reason beside its own field, found by the API's path.
    assert result["forms"][0] == ["name", "at least 1 character."]
    assert result["forms"][2] == ["steps.2.question", "at most 500 characters."]


def test_validation_problems_read_as_sentences_in_portuguese(page: Page) -> None:
    result = run(page, SCRIPT, "pt-BR")
    assert result["problems"] == [
        "Nome: no mínimo 1 caractere.",
        "Função: deve ser um destes: 'agent', 'supervisor' ou 'admin'.",
        "Pergunta: no máximo 500 caracteres.",
        "Quantidade de itens: deve ser 200 ou menos.",
        "E-mail: não é válido (not an e-mail address).",
        "Senha: preenchimento obrigatório.",
        "brand new field: não é válido (Something new).",
    ]
    assert result["message"] == " ".join(result["problems"])
    assert result["server"] == BODY["error"]["message"]


CODES = """
const i18n = await m('/js/i18n.js');
await i18n.setLocale(arg);
const { ApiError } = await m('/js/api.js');
return [
  new ApiError(409, 'duplicate_email', 'an operator with e-mail x@example.com already exists').message,
  new ApiError(409, 'conflict', 'the server says exactly what').message,
  new ApiError(409, 'duplicate_email', 'an operator with e-mail x@example.com already exists').serverMessage,
];
"""


def test_a_domain_error_code_reads_in_the_operators_language_and_a_generic_one_keeps_the_servers_words(
    page: Page,
) -> None:
    assert run(page, CODES, "pt-BR") == [
        "Já existe um operador com este e-mail.",
        "the server says exactly what",
        "an operator with e-mail x@example.com already exists",
    ]
    assert run(page, CODES, "en")[0] == "An operator with this e-mail already exists."
