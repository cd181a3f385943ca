"""OpenAIGenerator: any OpenAI-compatible chat server (vLLM, SGLang, Ollama, llama.cpp) over httpx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
from pydantic import SecretStr
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
)

from assistant.generation.errors import GenerationError


class _ServerError(Exception):
    """A 5xx answer: worth retrying."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | _ServerError)


class OpenAIGenerator:
    """POST {base_url}/chat/completions, plain or streamed (SSE "data:" lines), greedy (temperature 0)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: SecretStr | None = None,
        timeout_s: float = 20.0,
        max_retries: int = 2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = (
            api_key if api_key is None or isinstance(api_key, SecretStr) else SecretStr(str(api_key))
        )
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.name = f"openai:{model}"
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"OpenAIGenerator(base_url={self.base_url!r}, model={self.model!r})"

    def warm_up(self) -> None:
        """Create the HTTP client (no request is made)."""
        if self._client is None:
            headers = {"Content-Type": "application/json"}
            if self.api_key is not None:
                headers["Authorization"] = f"Bearer {self.api_key.get_secret_value()}"
            self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout_s)

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _payload(self, messages: list[dict], max_new_tokens: int, stream: bool) -> dict:
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_new_tokens,
            "temperature": 0.0,
            "stream": stream,
        }

    def _timeout(self, deadline: float) -> httpx.Timeout:
        left = deadline - time.monotonic()
        if left <= 0:
            raise GenerationError("request deadline passed", reason="timeout")
        return httpx.Timeout(left, connect=min(left, 5.0))

    # ------------------------------------------------------------------------------------------------
    def generate(
        self, messages: list[dict], *, max_new_tokens: int = 160, timeout_s: float | None = None
    ) -> str:
        """One non-streaming request; connect errors and 5xx are retried within the deadline."""
        self.warm_up()
        budget = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + budget
        payload = self._payload(messages, max_new_tokens, stream=False)

        def attempt() -> str:
            resp = self._client.post("/chat/completions", json=payload, timeout=self._timeout(deadline))
            if resp.status_code >= 500:
                raise _ServerError(f"HTTP {resp.status_code}")
            if resp.status_code >= 400:
                raise GenerationError(f"HTTP {resp.status_code}: {resp.text[:200]}", reason="http")
            try:
                return resp.json()["choices"][0]["message"]["content"] or ""
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise GenerationError(f"malformed response: {resp.text[:200]}") from exc

        retrying = Retrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self.max_retries + 1) | stop_before_delay(budget),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=False,
        )
        try:
            return retrying(attempt).strip()
        except GenerationError:
            raise
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise GenerationError(f"server unavailable: {last}", reason="http") from last
        except httpx.TimeoutException as exc:
            raise GenerationError(f"timed out after {budget:.1f}s", reason="timeout") from exc
        except httpx.HTTPError as exc:
            raise GenerationError(f"request failed: {exc}") from exc

    def stream(
        self, messages: list[dict], *, max_new_tokens: int = 160, timeout_s: float | None = None
    ) -> Iterator[str]:
        """Yield content deltas from a streamed (SSE) completion; no retries once bytes may have flowed."""
        self.warm_up()
        budget = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + budget
        payload = self._payload(messages, max_new_tokens, stream=True)
        produced: list[str] = []
        try:
            with self._client.stream(
                "POST", "/chat/completions", json=payload, timeout=self._timeout(deadline)
            ) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise GenerationError(f"HTTP {resp.status_code}: {resp.text[:200]}", reason="http")
                for line in resp.iter_lines():
                    if time.monotonic() > deadline:
                        raise GenerationError(
                            f"timed out after {budget:.1f}s", reason="timeout", partial="".join(produced)
                        )
                    line = line.strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        continue
                    if chunk.get("error"):
                        raise GenerationError(f"server error: {chunk['error']}", partial="".join(produced))
                    for choice in chunk.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            produced.append(piece)
                            yield piece
        except GenerationError:
            raise
        except httpx.TimeoutException as exc:
            raise GenerationError(
                f"timed out after {budget:.1f}s", reason="timeout", partial="".join(produced)
            ) from exc
        except httpx.HTTPError as exc:
            raise GenerationError(f"request failed: {exc}", reason="http", partial="".join(produced)) from exc
