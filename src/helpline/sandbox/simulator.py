"""A customer simulator: simulated people write to a generic API channel over real, signed HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass, field

import httpx

from helpline.platform.crypto import sign_header

log = logging.getLogger(__name__)

PEOPLE = [
    ("Ana Souza", "pt"),
    ("João Pereira", "pt"),
    ("Maria Oliveira", "pt"),
    ("Lucas Lima", "pt"),
    ("Emma Wilson", "en"),
    ("Liam Carter", "en"),
    ("Olivia Brown", "en"),
    ("Noah Davis", "en"),
    ("Sofía García", "es"),
    ("Mateo López", "es"),
    ("Giulia Rossi", "it"),
    ("Chloé Martin", "fr"),
]

OPENERS = {
    "pt": [
        "Olá, preciso abrir um sinistro do meu carro",
        "Bom dia! Qual o status do meu pedido 48213?",
        "Quero cancelar minha apólice",
        "Vocês abrem no sábado?",
        "Gostaria de agendar uma vistoria",
    ],
    "en": [
        "Hi, I need to file a claim for my car",
        "Where is my order #48213?",
        "I want to cancel my policy",
        "What are your opening hours on Saturday?",
        "Can I book an appointment for next week?",
    ],
    "es": [
        "Hola, quiero reportar un siniestro",
        "¿Dónde está mi pedido 48213?",
        "Quiero hablar con una persona",
    ],
    "it": ["Buongiorno, vorrei aprire un sinistro", "Vorrei parlare con un operatore"],
    "fr": ["Bonjour, je voudrais déclarer un sinistre", "Je veux parler à un conseiller"],
}

FOLLOW_UPS = {
    "pt": [
        "Minha apólice é AUT-2291-7",
        "Foi ontem à noite, 12 de maio",
        "Obrigado!",
        "Alguém pode me ajudar?",
    ],
    "en": [
        "My policy number is AUT-2291-7",
        "It happened yesterday evening, 12 May",
        "Thanks!",
        "Anyone there?",
    ],
    "es": ["Mi póliza es AUT-2291-7", "¡Gracias!"],
    "it": ["La mia polizza è AUT-2291-7", "Grazie!"],
    "fr": ["Mon numéro de contrat est AUT-2291-7", "Merci !"],
}


@dataclass
class Customer:
    contact_id: str
    name: str
    language: str
    sent: int = 0


@dataclass
class ApiChannelSimulator:
    """Posts signed messages to `inbound_url`, as the system behind an API channel would."""

    inbound_url: str
    secret: str
    http: httpx.AsyncClient
    interval_seconds: float = 8.0
    customers: list[Customer] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    def _pick(self) -> tuple[Customer, str]:
        if not self.customers or (len(self.customers) < len(PEOPLE) and self.rng.random() < 0.4):
            name, language = PEOPLE[len(self.customers)]
            customer = Customer(contact_id=f"sim-{uuid.uuid4().hex[:8]}", name=name, language=language)
            self.customers.append(customer)
            return customer, self.rng.choice(OPENERS[language])
        customer = self.rng.choice(self.customers)
        return customer, self.rng.choice(FOLLOW_UPS[customer.language])

    async def send_one(self) -> httpx.Response:
        customer, text = self._pick()
        customer.sent += 1
        body = json.dumps(
            {
                "contact": {"id": customer.contact_id, "name": customer.name},
                "message": {
                    "id": f"{customer.contact_id}-{customer.sent}-{uuid.uuid4().hex[:6]}",
                    "text": text,
                },
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", "X-Helpline-Signature": sign_header(self.secret, body)}
        return await self.http.post(self.inbound_url, content=body, headers=headers)

    async def run(self) -> None:
        try:
            await self._loop()
        finally:
            await self.http.aclose()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.interval_seconds)
            try:
                response = await self.send_one()
                if response.status_code >= 300:
                    log.warning("simulator message refused: %s %s", response.status_code, response.text[:200])
            except httpx.HTTPError as exc:
                log.warning("simulator could not reach Helpline: %s", exc)
