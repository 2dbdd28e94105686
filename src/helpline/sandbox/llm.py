"""A fake OpenAI-compatible chat endpoint for the demo and tests: deterministic, grounded-looking answers,
with configurable latency and failures. Never used by production paths."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_WORD = re.compile(r"\w{3,}", re.UNICODE)
_STOP = frozenset(str.split("the and for you your are what how can with this that from have does our"))


@dataclass
class FakeLlmConfig:
    latency_seconds: float = 0.0
    fail_status: int | None = None  # answer every call with this HTTP status
    fail_next: int = 0  # fail only the next N calls (with fail_status or 500)
    calls: list[dict[str, Any]] = field(default_factory=list)


def _terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _answer(system: str, user: str) -> str:
    """Quote the first sentence of the article sharing most words with the question, or refuse."""
    articles = re.split(r"\n\n(?=\[\d+\] )", system.split("ARTICLES:\n", 1)[-1])
    question = _terms(user)
    best, overlap = "", 0
    for article in articles:
        shared = len(question & _terms(article))
        if shared > overlap:
            best, overlap = article, shared
    if overlap < 2:
        return "NOT_COVERED"
    body = best.split("\n", 1)[-1].strip()
    return "According to our help centre: " + re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0]


def _extract(system: str, user: str) -> str:
    if "Expected type: date" in system:
        found = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)? of (\w+)", user)
        return f"{found.group(1)} {found.group(2)}" if found else "NO_ANSWER"
    if "Expected type: number" in system:
        words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
        for word, value in words.items():
            if re.search(rf"\b{word}\b", user.lower()):
                return str(value)
    return "NO_ANSWER"


def _reply(messages: list[dict[str, Any]]) -> str:
    system = str(messages[0].get("content", "")) if messages else ""
    user = str(messages[-1].get("content", "")) if messages else ""
    task = system.split("\n", 1)[0].removeprefix("TASK: ").strip()
    if task == "answer":
        return _answer(system, user)
    if task == "extract":
        return _extract(system, user)
    if task == "summary":
        first = next((line for line in user.splitlines() if line.startswith("customer:")), "customer: (nothing)")
        return f"The customer wrote {first.removeprefix('customer:').strip()!r} and needs a person."
    if task == "suggest":
        return "Thanks for your patience, I am looking into it.\nCould you share your policy number?"
    return "OK"


def create_fake_llm(config: FakeLlmConfig | None = None) -> FastAPI:
    app = FastAPI(title="Fake LLM (sandbox)")
    app.state.config = config or FakeLlmConfig()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> JSONResponse:
        cfg: FakeLlmConfig = app.state.config
        body = await request.json()
        cfg.calls.append(body)
        if cfg.latency_seconds:
            await asyncio.sleep(cfg.latency_seconds)
        if cfg.fail_status is not None or cfg.fail_next > 0:
            cfg.fail_next = max(0, cfg.fail_next - 1)
            status = cfg.fail_status or 500
            return JSONResponse({"error": {"message": "simulated failure", "type": "server_error"}}, status_code=status)
        content = _reply(body.get("messages", []))
        return JSONResponse(
            {
                "id": f"chatcmpl-fake-{len(cfg.calls)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        )

    return app
