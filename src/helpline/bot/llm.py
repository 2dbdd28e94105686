"""Optional LLM through any OpenAI-compatible endpoint; every call has a deadline and falls back to None."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx2
import openai
from openai import AsyncOpenAI

from helpline.bot.knowledge import ArticleDoc
from helpline.bot.schemas import StepDefinition
from helpline.settings import Settings

log = logging.getLogger(__name__)

NOT_COVERED = "NOT_COVERED"
NO_ANSWER = "NO_ANSWER"


@dataclass(frozen=True)
class Completion:
    """A call's text, or why there is none (timeout, HTTP error) so the bot can log its fallback."""

    text: str | None
    error: str | None = None


class Llm:
    """Four tasks, each a single chat completion. The system prompt's first line names the task, which
    also lets the sandbox's fake server answer deterministically."""

    def __init__(
        self, *, base_url: str, api_key: str, model: str, timeout: float, http_client: httpx2.AsyncClient | None = None
    ) -> None:
        self.model = model
        self.timeout = timeout
        # No retries inside the client: a customer is waiting, and the bot has a fallback for every task.
        self._client = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=0,
            http_client=http_client,
        )

    @classmethod
    def from_settings(cls, settings: Settings, http_client: httpx2.AsyncClient | None = None) -> Llm | None:
        if not settings.llm_base_url:
            return None
        return cls(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            timeout=settings.llm_timeout_seconds,
            http_client=http_client,
        )

    async def _chat(self, task: str, system: str, user: str, max_tokens: int = 300) -> Completion:
        try:
            response = await asyncio.wait_for(
                self._client.chat.completions.create(
                    model=self.model,
                    messages=[
                        {"role": "system", "content": f"TASK: {task}\n{system}"},
                        {"role": "user", "content": user},
                    ],
                    temperature=0,
                    max_tokens=max_tokens,
                ),
                # The client's own timeout covers each socket read; this one bounds the whole call.
                timeout=self.timeout,
            )
        except (TimeoutError, openai.OpenAIError, httpx2.HTTPError) as exc:
            log.warning("LLM %s failed: %s", task, exc)
            return Completion(None, f"{type(exc).__name__}: {exc}"[:300])
        content = response.choices[0].message.content if response.choices else None
        return Completion(content.strip() if content and content.strip() else None)

    async def grounded_answer(self, question: str, articles: Sequence[ArticleDoc]) -> Completion:
        """A short answer using only the articles; no text when they do not cover it (error says a failure)."""
        context = "\n\n".join(f"[{a.id}] {a.title}\n{a.answer}" for a in articles)
        answer = await self._chat(
            "answer",
            "You are a customer-care assistant. Answer the customer's question in at most three sentences, "
            "in the customer's language, using ONLY the ARTICLES below. If they do not contain the answer, "
            f"reply exactly {NOT_COVERED}.\nARTICLES:\n{context}",
            question,
        )
        if answer.text is not None and NOT_COVERED in answer.text:
            return Completion(None)
        return answer

    async def extract(self, step: StepDefinition, text: str) -> str | None:
        """The answer to one question in a free-form message, when the rule-based extractors found none."""
        detail = f" Choices: {', '.join(step.choices)}." if step.choices else ""
        answer = await self._chat(
            "extract",
            f"Extract the customer's answer to the QUESTION. Expected type: {step.type}.{detail} Reply with the "
            f"answer only (dates as YYYY-MM-DD, yes/no as yes or no), or {NO_ANSWER} when there is none.\n"
            f"QUESTION: {step.question}",
            text,
            max_tokens=60,
        )
        return None if answer.text is None or NO_ANSWER in answer.text else answer.text

    async def summary(self, transcript: str) -> str | None:
        completion = await self._chat(
            "summary",
            "Summarise this customer-care conversation for the human operator taking over, in two or three "
            "sentences: what the customer wants, what was collected, why it was handed over.",
            transcript,
            max_tokens=200,
        )
        return completion.text

    async def suggestions(self, transcript: str, articles: Sequence[ArticleDoc]) -> list[str]:
        context = "\n\n".join(f"{a.title}\n{a.answer}" for a in articles)
        raw = await self._chat(
            "suggest",
            "Propose up to three short replies the operator could send next, one per line, grounded in the "
            f"conversation and these articles.\nARTICLES:\n{context}",
            transcript,
        )
        if raw.text is None:
            return []
        return [line.strip(" -•\t") for line in raw.text.splitlines() if line.strip(" -•\t")][:3]

    async def close(self) -> None:
        await self._client.close()
