"""API and file shapes of the front line: script definitions, articles, the bot block of a conversation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helpline.platform.api_contract import BoundedInt

EndKind = Literal["close", "case", "webhook"]
AnswerType = Literal["text", "yes_no", "choice", "number", "date", "email", "phone", "pattern"]
KEY_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,99}$"


# An earlier answer inside a step's question: "Shall I book {day}, {period}?" (helpline.bot.runner fills it).
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_-]+)\}")


class StepDefinition(BaseModel):
    """One question of a script and how its answer is checked."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN, description="name of the answer in the case summary")
    question: str = Field(min_length=1, max_length=2000)
    type: AnswerType = "text"
    choices: list[str] = Field(default_factory=list, max_length=30)
    pattern: str | None = Field(default=None, max_length=500, description="regular expression for type=pattern")
    retry_message: str | None = Field(default=None, max_length=2000, description="said before re-asking")
    example: str | None = Field(
        default=None,
        max_length=200,
        description="a valid answer, shown when an answer is re-asked; for type=pattern it must match and sets "
        "how answers are written (POL-123456: 'pol 771203' is stored as POL-771203)",
    )
    max_attempts: BoundedInt = Field(default=3, ge=1, le=10)
    region: str | None = Field(default=None, description="default phone region, e.g. BR")
    when: Literal["past", "future"] | None = Field(
        default=None,
        description="date steps: past = today or earlier ('When did it happen?'), future = today or later "
        "('Which day suits you?'); a day on the other side is re-asked with the reason",
    )
    stop_if_no: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="yes_no steps: when the answer is no, the script stops with this message instead of its "
        "closing message, and its end (case, webhook) is not done — 'Shall I cancel it?' → 'no'",
    )

    @model_validator(mode="after")
    def _type_needs(self) -> StepDefinition:
        if self.when is not None and self.type != "date":
            raise ValueError(f"step {self.key!r}: when is for date steps")
        if self.stop_if_no is not None and self.type != "yes_no":
            raise ValueError(f"step {self.key!r}: stop_if_no is for yes_no steps")
        if self.type == "choice" and len(self.choices) < 2:
            raise ValueError(f"step {self.key!r}: a choice step needs at least two choices")
        if self.type == "pattern":
            if not self.pattern:
                raise ValueError(f"step {self.key!r}: a pattern step needs `pattern`")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"step {self.key!r}: bad pattern: {exc}") from None
            if self.example and not re.search(self.pattern, self.example, re.IGNORECASE):
                raise ValueError(f"step {self.key!r}: the example {self.example!r} does not match the pattern")
        return self


class EndAction(BaseModel):
    """An outgoing POST of the collected answers when the script completes (signed like webhooks)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)


class ScriptDefinition(BaseModel):
    """Everything a script version holds; also the import/export format (YAML or JSON)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    demand: str = Field(default="", max_length=2000, description="the customer need this script serves")
    examples: list[str] = Field(default_factory=list, max_length=2000, description="example phrasings")
    languages: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    steps: list[StepDefinition] = Field(default_factory=list, max_length=50)
    closing_message: str = Field(default="", max_length=4000)
    end: EndKind | None = Field(
        default=None,
        description="how the script finishes: close (just the closing message), case (the conversation goes to "
        "the human queue with the answers) or webhook (end_action is called); default webhook with an "
        "end_action, else close",
    )
    end_action: EndAction | None = None
    active: bool = True

    @property
    def end_kind(self) -> EndKind:
        return self.end or ("webhook" if self.end_action is not None else "close")

    @field_validator("examples")
    @classmethod
    def _clean_examples(cls, value: list[str]) -> list[str]:
        return [e.strip() for e in value if e.strip()]

    @model_validator(mode="after")
    def _unique_steps(self) -> ScriptDefinition:
        keys = [s.key for s in self.steps]
        if len(keys) != len(set(keys)):
            raise ValueError("step keys must be unique within a script")
        for index, step in enumerate(self.steps):
            for name in PLACEHOLDER.findall(step.question):
                if name not in keys[:index]:
                    raise ValueError(f"step {step.key!r}: {{{name}}} must name an earlier step's key")
        if self.end == "webhook" and self.end_action is None:
            raise ValueError("end: webhook needs an end_action with the URL to call")
        if self.end == "close" and self.end_action is not None:
            raise ValueError("end: close calls nothing; remove end_action or use end: webhook or case")
        return self


class ScriptPublic(BaseModel):
    id: BoundedInt
    key: str
    name: str
    active: bool
    current_version: BoundedInt
    definition: ScriptDefinition
    updated_at: datetime
    # Only in the response that created the script: the end-action signing secret, shown once.
    end_action_secret: str | None = None


class ScriptVersionPublic(BaseModel):
    script_id: BoundedInt
    version: BoundedInt
    definition: ScriptDefinition
    created_by: BoundedInt | None
    created_at: datetime


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    answer: str = Field(min_length=1, max_length=20_000)
    tags: list[str] = Field(default_factory=list, max_length=30)
    language: str = Field(default="en", max_length=16)
    active: bool = True


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    answer: str | None = Field(default=None, min_length=1, max_length=20_000)
    tags: list[str] | None = None
    language: str | None = Field(default=None, max_length=16)
    active: bool | None = None


class ArticlePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: BoundedInt
    title: str
    answer: str
    tags: list[str]
    language: str
    active: bool
    updated_at: datetime


class Candidate(BaseModel):
    script_id: BoundedInt
    key: str
    name: str
    confidence: float


class Progress(BaseModel):
    steps_done: BoundedInt
    steps_total: BoundedInt
    is_final_step: bool


class ScriptRunPublic(BaseModel):
    """One run of a script in the conversation and the answers it collected (never overwritten by a later one)."""

    model_config = ConfigDict(from_attributes=True)

    id: BoundedInt
    script_id: BoundedInt | None
    script_key: str
    script_name: str
    script_version: BoundedInt
    status: Literal["running", "completed", "escalated", "replaced", "stopped"]
    end: Literal["close", "case", "webhook"]
    end_status: Literal["sent", "failed"] | None
    answers: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class CaseField(BaseModel):
    key: str = Field(description="the script step's key")
    question: str | None = Field(default=None, description="the step's question: its label, in the script's words")
    value: Any


class EscalationRecord(BaseModel):
    """The bot's hand-off as data, for a screen to show in its own language: `reason` is a code, `params` its
    facts ({"count": n} for low_confidence, {"step": key, "step_label": question} for failed_answers), `fields`
    the answers collected with their step labels. `summary` is the same in English text, for notes and
    webhooks; `detail` is free text (a keyword that matched, an error)."""

    model_config = ConfigDict(extra="allow")

    reason: str = Field(
        description="customer_request, keyword, frustration, low_confidence, failed_answers, technical_error, "
        "tag_rule, window_closed, reply_limit, …"
    )
    detail: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    summary: str | None = None
    at: str | None = None
    message_id: int | None = None
    script: dict[str, Any] | None = Field(default=None, description="{id, key, name} of the script it came from")
    fields: list[CaseField] = Field(default_factory=list)


class BotStatePublic(BaseModel):
    """The bot block an operator sees on a conversation: where the bot is and what it collected."""

    conversation_id: BoundedInt
    handler: str
    mode: str
    script: dict[str, Any] | None
    progress: Progress | None
    answers: dict[str, Any]
    candidates: list[Candidate]
    escalation: EscalationRecord | None
    method: str | None = Field(description="the script-matching method in use")
    runs: list[ScriptRunPublic] = Field(
        default_factory=list, description="this conversation's script runs, oldest first"
    )


class InteractionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: BoundedInt
    message_id: BoundedInt | None
    kind: str
    details: dict[str, Any]
    created_at: datetime


class ChooseScript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    script_id: BoundedInt


class Suggestion(BaseModel):
    text: str
    source: Literal["llm", "article", "script"]
    article_id: BoundedInt | None = None


# ---------------------------------------------------------------- the try-it console


class TryScriptRef(BaseModel):
    id: BoundedInt
    key: str
    name: str
    version: BoundedInt = Field(description="0 for the unsaved draft")


class TryState(BaseModel):
    """The bot's state for one conversation, as the console returns it; send it back to take the next step.
    Keys other than these are kept as they are (the bot's own bookkeeping)."""

    model_config = ConfigDict(extra="allow")

    mode: Literal["idle", "script", "clarifying", "done", "paused"] = "idle"
    lang: str | None = Field(default=None, max_length=16)
    script: TryScriptRef | None = None
    step: int = Field(default=0, ge=0, le=50)
    attempts: int = Field(default=0, ge=0, le=10)
    answers: dict[str, Any] = Field(default_factory=dict)
    low_confidence: int = Field(default=0, ge=0, le=1000)
    clarify: list[Candidate] | None = None


class TryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=4000, description="what the customer writes")
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2}([-_][A-Za-z]{2})?$", description="the customer's language; else detected"
    )
    channel_kind: str | None = Field(default=None, description="checks the replies against that channel's limits")
    script: ScriptDefinition | None = Field(
        default=None, description="an unsaved draft (the POST /scripts shape) to evaluate with the saved scripts"
    )
    script_only: bool = Field(default=False, description="match against the draft alone, not the saved scripts")
    state: TryState | None = Field(default=None, description="the `state` of the previous answer, to step on")


class TryMatch(BaseModel):
    script_id: int | None = Field(description="null for a draft that is not saved yet")
    script_key: str
    script_name: str
    confidence: float | None = Field(description="0..1; null when the customer picked it from a clarification")
    method: str | None = Field(description='the matching method, "clarified" or "running" (the script went on)')
    draft: bool


class TryAlternative(BaseModel):
    script_key: str
    script_name: str
    confidence: float


class TryArticle(BaseModel):
    id: int
    title: str
    score: float


class TryReply(BaseModel):
    kind: str = Field(
        description="question, retry, confirm, closing, clarify, article, small_talk, fallback or handoff"
    )
    text: str
    quick_replies: list[str] = Field(description="answers the text offers (a choice step's or clarification's)")


class TryEscalation(BaseModel):
    reason: str
    detail: str | None


TryAction = Literal[
    "escalate",
    "start_script",
    "next_step",
    "retry_step",
    "complete_script",
    "clarify",
    "article",
    "small_talk",
    "fallback",
]


class TryResult(BaseModel):
    """What the bot would do with this message — computed by the bot's own decision code, nothing stored."""

    action: TryAction
    match: TryMatch | None
    alternatives: list[TryAlternative] = Field(description="the other ranked scripts (the bot ranks the top 3)")
    out_of_scope: bool | None = Field(description="the matcher found no script fits; null when it did not run")
    article: TryArticle | None
    reply: TryReply | None = Field(description="all the customer would read, as one bubble")
    replies: list[TryReply] = Field(description="each message the bot would send, in order")
    escalation: TryEscalation | None
    progress: dict[str, Any] | None
    answers: dict[str, Any]
    method: str | None = Field(description="the script-matching method of this build")
    state: TryState
