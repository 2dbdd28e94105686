"""An email channel's stored shape: the mailbox's servers and addresses (settings) and its secrets (credentials).

Field names follow what mail clients ask for (host, port, security, username); OAuth 2.0 fields follow
RFC 6749 (client id/secret, refresh token, token endpoint) as Google and Microsoft document them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from helpline.channels.locale import ConversationLocale

# Lenient on purpose: RFC 5322 allows far more than any validator accepts, the server has the last word.
ADDRESS_PATTERN = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


class EmailSettings(ConversationLocale):
    """Where the mailbox lives and how replies look. `imap_security`: `tls` (implicit, port 993), `starttls`
    (port 143 upgraded) or `none` (loopback tests only); `smtp_security`: `starttls` (587), `tls` (465) or `none`."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    from_address: str = Field(pattern=ADDRESS_PATTERN, max_length=320)
    display_name: str | None = Field(default=None, max_length=200)
    imap_host: str = Field(min_length=1, max_length=255)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["tls", "starttls", "none"] = "tls"
    mailbox: str = Field(default="INBOX", min_length=1, max_length=200)
    smtp_host: str = Field(min_length=1, max_length=255)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    auth: Literal["password", "oauth2"] = "password"
    # OAuth 2.0: the token endpoint, the admin's registered client and the scope asked for.
    oauth_token_url: AnyHttpUrl | None = None
    oauth_client_id: str | None = Field(default=None, max_length=500)
    oauth_scope: str | None = Field(default=None, max_length=1000)
    # Seconds between checks when the server offers no IDLE (and the longest wait inside one IDLE).
    poll_interval_seconds: float = Field(default=60.0, ge=0.2, le=3600)
    use_idle: bool = True
    # A new mail (no In-Reply-To/References/token) continues the sender's open conversation instead of
    # opening a new one.
    continue_open_conversation: bool = False
    bot_enabled: bool = False
    # Stable per channel: Message-IDs derive from it, so a retried send keeps its Message-ID.
    message_id_salt: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _oauth_complete(self) -> EmailSettings:
        if self.auth == "oauth2" and (self.oauth_token_url is None or not self.oauth_client_id):
            raise ValueError("OAuth 2.0 needs oauth_token_url and oauth_client_id")
        return self

    @property
    def domain(self) -> str:
        return self.from_address.rsplit("@", 1)[1]


class EmailCredentials(BaseModel):
    """`username` (defaults to the from-address) and either `password` or the OAuth client secret and a
    refresh token (an access token is optional: it is refreshed when missing or expired)."""

    model_config = ConfigDict(extra="ignore")

    username: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, max_length=1000)
    oauth_client_secret: str | None = Field(default=None, max_length=2000)
    oauth_refresh_token: str | None = Field(default=None, max_length=4000)
    oauth_access_token: str | None = Field(default=None, max_length=8000)
