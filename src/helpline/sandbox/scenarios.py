"""What the demo's simulated customers say: conversations that follow the seeded scripts (bot/seeds/*.yaml).

Most customers answer each step with something the step accepts; some first get an answer wrong and correct
it after the bot's retry message; a few ask for a person midway; some ask a question an article or the
opening-hours script answers. Some say hello first, and some put their policy number or the date in the
opening message — like real customers they do not repeat it, and say "yes" when the bot checks an unsure
reading (the bot's own slot filling, bot/slots.py, tells which steps their opening already answered).
Customers writing in English, Portuguese and Spanish follow the scripts of their language; those writing in
Italian or French (no seeded scripts) ask for a person. The mix keeps the demo inbox looking like a working
day: bot-completed conversations, a few escalations, and live traffic.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from helpline.bot import slots
from helpline.bot.schemas import ScriptDefinition
from helpline.bot.scripts import parse_definitions
from helpline.bot.seeds import seed_documents

# (opener variants, one list of accepted answers per step, a wrong first answer per step or None)
Flow = tuple[tuple[str, ...], tuple[tuple[str, ...], ...], tuple[str | None, ...]]

FLOWS: dict[str, dict[str, Flow]] = {
    "en": {
        "insurance-claim-en": (
            (
                "Hi, I need to file a claim for my car",
                "I had a car accident yesterday",
                "My car was stolen last night",
                "Someone crashed into my car the day before yesterday, my policy is POL 771203",
            ),
            (
                ("My policy number is POL-482913", "POL-771204", "It's POL118356"),
                ("It happened yesterday", "on 12 May", "2026-05-03"),
                ("Someone hit my car in the parking lot", "A tree fell on the roof during the storm"),
                ("You can call me on +1 212 736 5000", "+44 20 7946 0958"),
            ),
            ("I think it is AUT-2291-7", "last week sometime", None, "call me anytime"),
        ),
        "order-status-en": (
            (
                "Where is my order?",
                "My package has not arrived yet",
                "I want to track my delivery",
                "Where is order 48213?",
            ),
            (("Order 48213", "It's 77120"), ("emma.wilson@example.com", "my e-mail is liam.c@example.org")),
            ("I don't have it here", "the usual one"),
        ),
        "appointment-en": (
            ("Can I book an appointment with an advisor?", "I need an appointment next week"),
            (("Next Tuesday", "tomorrow"), ("Morning", "the afternoon please"), ("yes", "Yes, book it")),
            ("whenever works", "evening", None),
        ),
        "cancellation-en": (
            ("I want to cancel my policy", "How do I cancel my insurance?", "Please cancel policy pol 334455"),
            (("POL-334455", "The policy is POL-908172"), ("I found a cheaper offer", "I sold the car"), ("yes",)),
            ("the car one", None, None),
        ),
    },
    "pt": {
        "insurance-claim-pt": (
            (
                "Olá, preciso abrir um sinistro do meu carro",
                "Bateram no meu carro ontem",
                "Meu carro foi roubado",
                "Bateram no meu carro anteontem, minha apólice é POL 482913",
            ),
            (
                ("Minha apólice é POL-482913", "POL-771204"),
                ("Foi ontem à noite", "em 12 de maio"),
                ("Um carro bateu na minha traseira no semáforo", "Caiu uma árvore no telhado"),
                ("Pode ligar no (11) 98765-4321", "+55 21 99876-5432"),
            ),
            ("Acho que é AUT-2291-7", "semana passada, não lembro o dia", None, "qualquer hora"),
        ),
        "order-status-pt": (
            ("Onde está meu pedido?", "Meu pedido não chegou", "Quero rastrear minha entrega", "Cadê o pedido 48213?"),
            (("Pedido 48213", "É o 77120"), ("ana.souza@example.com", "meu e-mail é joao.p@example.com.br")),
            ("não sei o número", "o de sempre"),
        ),
        "appointment-pt": (
            ("Gostaria de agendar uma visita", "Quero marcar um horário com um consultor"),
            (("Amanhã", "Terça que vem"), ("Manhã", "à tarde"), ("sim", "Pode confirmar, sim")),
            ("quando der", "à noite", None),
        ),
        "cancellation-pt": (
            (
                "Quero cancelar minha apólice",
                "Como faço para cancelar meu seguro?",
                "Quero cancelar a apólice POL-908172",
            ),
            (("POL-334455", "A apólice é POL-908172"), ("Achei mais barato", "Vendi o carro"), ("sim",)),
            ("a do carro", None, None),
        ),
    },
    "es": {
        "insurance-claim-es": (
            (
                "Hola, necesito abrir un siniestro del coche",
                "Ayer me chocaron el coche",
                "Me robaron el coche anoche",
                "Chocaron mi coche anteayer, mi póliza es POL 556677",
            ),
            (
                ("Mi póliza es POL-556677", "POL-210398"),
                ("Fue ayer por la tarde", "el 12 de mayo"),
                ("Un coche me golpeó por detrás en un semáforo", "Se cayó un árbol sobre el tejado"),
                ("Pueden llamarme al +34 612 34 56 78", "+34 913 12 34 56"),
            ),
            ("Creo que es AUT-2291-7", "la semana pasada, no recuerdo el día", None, "a cualquier hora"),
        ),
        "order-status-es": (
            (
                "¿Dónde está mi pedido?",
                "Mi pedido no ha llegado",
                "Quiero rastrear mi envío",
                "¿Dónde está el pedido 48213?",
            ),
            (("Pedido 48213", "Es el 77120"), ("lucia.garcia@example.com", "mi correo es mateo.l@example.es")),
            ("no tengo el número", "el de siempre"),
        ),
        "appointment-es": (
            ("Quisiera pedir una cita con un asesor", "Necesito una cita la semana que viene"),
            (("El martes que viene", "pasado mañana"), ("Mañana", "por la tarde"), ("sí", "Sí, confírmela")),
            ("cuando pueda", "por la noche", None),
        ),
        "cancellation-es": (
            (
                "Quiero cancelar mi póliza",
                "¿Cómo doy de baja mi seguro?",
                "Quiero cancelar la póliza POL-908172",
            ),
            (("POL-334455", "La póliza es POL-908172"), ("Encontré una oferta más barata", "Vendí el coche"), ("sí",)),
            ("la del coche", None, None),
        ),
    },
}

QUESTIONS = {
    "en": ("What are your opening hours?", "How long does a claim take?", "Which payment methods do you accept?"),
    "pt": (
        "Qual o horário de atendimento?",
        "Quanto tempo demora um sinistro?",
        "Quais formas de pagamento vocês aceitam?",
    ),
    "es": ("¿Cuál es su horario de atención?", "¿Cuánto tarda un siniestro?", "¿Qué formas de pago aceptan?"),
}
GREETINGS = {
    "en": ("Hi", "Hello, good morning"),
    "pt": ("Olá, bom dia", "Oi, tudo bem?"),
    "es": ("Hola, buenos días", "Buenas tardes"),
}
YES = {"en": "yes", "pt": "sim", "es": "sí"}
GREETING_SHARE = 0.2
ASK_FOR_PERSON = {
    "en": ("Can I talk to a person, please?", "I want to speak to a human agent"),
    "pt": ("Quero falar com um atendente, por favor", "Prefiro falar com uma pessoa"),
    "es": ("Hola, quiero hablar con una persona", "¿Puedo hablar con un agente?"),
    "it": ("Buongiorno, vorrei parlare con un operatore",),
    "fr": ("Bonjour, je veux parler à un conseiller",),
}
NAMES = {
    "en": (("Emma", "Liam", "Olivia", "Noah", "Ava", "James"), ("Wilson", "Carter", "Brown", "Davis", "Miller")),
    "pt": (("Ana", "João", "Maria", "Lucas", "Beatriz", "Pedro"), ("Souza", "Pereira", "Oliveira", "Lima", "Costa")),
    "es": (("Sofía", "Mateo", "Lucía"), ("García", "López", "Martínez")),
    "it": (("Giulia", "Marco"), ("Rossi", "Bianchi")),
    "fr": (("Chloé", "Louis"), ("Martin", "Bernard")),
}
# Who writes (by language) and what they do; tuned so most conversations end completed by the bot.
LANGUAGE_WEIGHTS = {"pt": 0.45, "en": 0.4, "es": 0.13, "it": 0.01, "fr": 0.01}
PLAN_WEIGHTS = {"complete": 0.62, "correct": 0.2, "person": 0.08, "question": 0.1}


@dataclass
class SimulatedCustomer:
    """One person and what they will still say, in order."""

    key: str
    name: str
    language: str
    plan: str  # complete | correct | person | question
    script: str | None
    pending: list[str]
    sent: int = 0
    last_at: float = float("-inf")  # when they last wrote (the pool's clock)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@functools.cache
def _definitions() -> dict[str, ScriptDefinition]:
    return {d.key: d for document in seed_documents() for d in parse_definitions(document)}


def conversation(rng: random.Random, language: str) -> tuple[str, str | None, list[str]]:
    """(plan, script key or None, the messages in order) for one customer writing in `language`."""
    if language not in FLOWS:
        return "person", None, [rng.choice(ASK_FOR_PERSON[language])]
    plan = _weighted(rng, PLAN_WEIGHTS)
    hello = [rng.choice(GREETINGS[language])] if rng.random() < GREETING_SHARE else []
    if plan == "question":
        return plan, None, [*hello, rng.choice(QUESTIONS[language])]
    script = rng.choice(list(FLOWS[language]))
    openers, answers, wrong = FLOWS[language][script]
    opener = rng.choice(openers)
    messages = [*hello, opener]
    steps = _definitions()[script].steps
    # What the opening already answered, as the bot reads it: not repeated; unsure readings get a "yes".
    state: dict[str, Any] = {}
    today = date.today()
    slots.fill(_definitions()[script], state, [opener], region="US", today=today)
    correctable = [i for i, w in enumerate(wrong) if w is not None and steps[i].key not in state["answers"]]
    stop_at = rng.randrange(0, len(answers)) if plan == "person" else len(answers)
    fix_at = rng.choice(correctable) if plan == "correct" and correctable else None
    for index, (step, accepted) in enumerate(zip(steps[:stop_at], answers, strict=False)):
        if step.key in state["answers"]:
            continue
        if step.key in state["unsure"]:
            messages.append(YES[language])
            state["answers"][step.key] = state["unsure"].pop(step.key)
            continue
        if index == fix_at:
            messages.append(str(wrong[index]))
        text = rng.choice(accepted)
        messages.append(text)
        state["answers"][step.key] = text
        slots.fill(_definitions()[script], state, [text], region="US", today=today, skip=step.key)
    if plan == "person":
        messages.append(rng.choice(ASK_FOR_PERSON[language]))
    return plan, script, messages


@dataclass
class CustomerPool:
    """Picks who writes next: a new customer, or the next message of one already talking.

    A customer writes again only `min_gap` seconds after their previous message, as people wait for the answer
    (the bot handles one conversation's messages in the order it sees them).
    """

    rng: random.Random = field(default_factory=random.Random)
    max_active: int = 5
    min_gap: float = 3.0
    clock: Callable[[], float] = time.monotonic
    active: list[SimulatedCustomer] = field(default_factory=list)
    started: int = 0
    plans: list[str] = field(default_factory=list)  # each customer's plan, in order of arrival

    def new_customer(self) -> SimulatedCustomer:
        language = _weighted(self.rng, LANGUAGE_WEIGHTS)
        first, last = NAMES[language]
        plan, script, messages = conversation(self.rng, language)
        self.started += 1
        customer = SimulatedCustomer(
            key=f"{self.started:04d}-{self.rng.getrandbits(32):08x}",
            name=f"{self.rng.choice(first)} {self.rng.choice(last)}",
            language=language,
            plan=plan,
            script=script,
            pending=messages,
        )
        self.active.append(customer)
        self.plans.append(plan)
        return customer

    def next_message(self) -> tuple[SimulatedCustomer, str] | None:
        """The customer who writes now and their text, or None when everyone talking is still waiting and no
        newcomer fits; a customer with nothing left to say leaves."""
        now = self.clock()
        ready = [c for c in self.active if now - c.last_at >= self.min_gap]
        room = len(self.active) < self.max_active
        if room and (not ready or self.rng.random() < 0.35):
            customer = self.new_customer()
        elif ready:
            customer = self.rng.choice(ready)
        else:
            return None
        text = customer.pending.pop(0)
        customer.sent += 1
        customer.last_at = now
        if not customer.pending:
            self.active.remove(customer)
        return customer, text
