"""A local stand-in for the part of Stripe's API this platform calls, speaking Stripe's documented protocol.

Stripe cannot be reached from the test machines, so the tests (and the ``make run`` demo) point the official
``stripe`` library at this server (``TRADELOOM_STRIPE_API_BASE``). It implements exactly what we call:

- ``POST /v1/payment_intents``, ``GET /v1/payment_intents`` (list), ``GET /v1/payment_intents/{id}``,
  ``POST /v1/payment_intents/{id}/confirm``, ``POST /v1/payment_intents/{id}/capture``, ``POST /v1/refunds``,
  ``GET /v1/events`` (list);
- requests form-encoded with Stripe's bracket notation (``metadata[k]=v``), bearer secret-key authentication,
  ``Idempotency-Key`` replays; responses are Stripe's JSON objects, failures its ``{"error": {type, code,
  message, param}}`` bodies with its HTTP statuses (401, 402 card declined, 400, 404);
- Stripe's test payment methods: ``pm_card_visa`` succeeds, ``pm_card_chargeDeclined`` is declined;
- events as Stripe makes them; when a webhook URL is given they are delivered signed with Stripe's scheme
  (``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``).

It keeps everything in memory and is not a payment system: no money moves.
"""

import contextlib
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JsonObject = dict[str, Any]
API_VERSION = "2025-04-30.basil"
SUCCEEDING_METHOD = "pm_card_visa"
DECLINED_METHOD = "pm_card_chargeDeclined"


class StripeApiError(Exception):
    """A failure answered as Stripe's error object."""

    def __init__(self, status: int, error_type: str, message: str, *, code: str | None = None,
                 param: str | None = None, extra: JsonObject | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": error_type, "message": message, "code": code, "param": param, **(extra or {})}}


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with a webhook body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def parse_form(body: str) -> JsonObject:
    """Stripe's form encoding: ``a[b]=1`` → ``{"a": {"b": "1"}}``, ``a[0]=x`` → ``{"a": {"0": "x"}}``."""
    params: JsonObject = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, *rest = key.replace("]", "").split("[")
        target = params
        for part in [head, *rest][:-1]:
            target = target.setdefault(part, {})
        target[[head, *rest][-1]] = value
    return params


def _amount(params: JsonObject, name: str, *, required: bool) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise StripeApiError(400, "invalid_request_error", f"Missing required param: {name}.",
                                 code="parameter_missing", param=name)
        return None
    if not str(raw).isdigit() or int(raw) < 1:
        raise StripeApiError(400, "invalid_request_error", f"Invalid integer: {raw}", code="parameter_invalid_integer",
                             param=name)
    return int(raw)


class LocalStripe:
    """The in-memory state and the operations behind each endpoint."""

    def __init__(self, *, api_key: str, webhook_url: str | None = None, webhook_secret: str | None = None) -> None:
        if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must be http(s)")
        self.api_key = api_key
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.intents: dict[str, JsonObject] = {}
        self.events: list[JsonObject] = []
        self._idempotent: dict[tuple[str, str], tuple[int, JsonObject]] = {}
        self._lock = threading.RLock()
        self._clock = itertools.count(int(time.time()))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"

    def _emit(self, event_type: str, obj: JsonObject) -> None:
        event = {"id": self._id("evt"), "object": "event", "api_version": API_VERSION, "created": next(self._clock),
                 "data": {"object": json.loads(json.dumps(obj))}, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "type": event_type}
        self.events.append(event)
        if self.webhook_url and self.webhook_secret:
            threading.Thread(target=self._deliver, args=(event,), daemon=True).start()

    def _deliver(self, event: JsonObject) -> None:
        assert self.webhook_url and self.webhook_secret
        body = json.dumps(event).encode()
        request = urllib.request.Request(self.webhook_url, data=body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", "Stripe-Signature": sign_payload(body, self.webhook_secret)})
        # A lost delivery is fine: Stripe retries for days; the platform's reconciliation job closes any gap.
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - http(s) checked in __init__

    def intent(self, intent_id: str) -> JsonObject:
        if intent_id not in self.intents:
            raise StripeApiError(404, "invalid_request_error", f"No such payment_intent: '{intent_id}'",
                                 code="resource_missing", param="intent")
        return self.intents[intent_id]

    def create_intent(self, params: JsonObject) -> JsonObject:
        amount = _amount(params, "amount", required=True)
        if not params.get("currency"):
            raise StripeApiError(400, "invalid_request_error", "Missing required param: currency.",
                                 code="parameter_missing", param="currency")
        intent_id = self._id("pi")
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_received": 0, "capture_method": params.get("capture_method", "automatic"),
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}", "confirmation_method": "automatic",
            "created": next(self._clock), "currency": str(params["currency"]).lower(),
            "description": params.get("description"), "last_payment_error": None, "latest_charge": None,
            "livemode": False, "metadata": params.get("metadata", {}), "payment_method": None,
            "payment_method_types": ["card"], "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        self._emit("payment_intent.created", intent)
        if params.get("payment_method"):
            intent["payment_method"] = params["payment_method"]
            intent["status"] = "requires_confirmation"
        if params.get("confirm") == "true":
            return self.confirm(intent_id, params)
        return intent

    def confirm(self, intent_id: str, params: JsonObject) -> JsonObject:
        intent = self.intent(intent_id)
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise StripeApiError(400, "invalid_request_error",
                                 f"This PaymentIntent's status is {intent['status']}; it cannot be confirmed.",
                                 code="payment_intent_unexpected_state", extra={"payment_intent": intent})
        method = params.get("payment_method") or intent["payment_method"]
        if method is None:
            raise StripeApiError(400, "invalid_request_error", "You must provide a payment method to confirm.",
                                 code="payment_intent_unexpected_state", param="payment_method")
        intent["payment_method"] = method
        if method != SUCCEEDING_METHOD:
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {"type": "card_error", "code": "card_declined",
                                            "decline_code": "generic_decline", "message": "Your card was declined."}
            self._emit("payment_intent.payment_failed", intent)
            raise StripeApiError(402, "card_error", "Your card was declined.", code="card_declined",
                                 extra={"decline_code": "generic_decline", "payment_intent": intent})
        intent["latest_charge"] = self._id("ch")
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            intent["status"], intent["amount_capturable"] = "requires_capture", intent["amount"]
            self._emit("payment_intent.amount_capturable_updated", intent)
        else:
            intent["status"], intent["amount_received"] = "succeeded", intent["amount"]
            self._emit("payment_intent.succeeded", intent)
        return intent

    def capture(self, intent_id: str, params: JsonObject) -> JsonObject:
        intent = self.intent(intent_id)
        if intent["status"] != "requires_capture":
            raise StripeApiError(400, "invalid_request_error",
                                 f"This PaymentIntent could not be captured because it has a status of "
                                 f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
                                 f"be captured: requires_capture.", code="payment_intent_unexpected_state",
                                 extra={"payment_intent": intent})
        amount = _amount(params, "amount_to_capture", required=False) or intent["amount_capturable"]
        if amount > intent["amount_capturable"]:
            raise StripeApiError(400, "invalid_request_error", "The amount to capture exceeds the capturable amount.",
                                 code="amount_too_large", param="amount_to_capture")
        intent["status"], intent["amount_received"], intent["amount_capturable"] = "succeeded", amount, 0
        self._emit("payment_intent.succeeded", intent)
        return intent

    def refund(self, params: JsonObject) -> JsonObject:
        intent = self.intent(str(params.get("payment_intent", "")))
        refunded = sum(int(e["data"]["object"]["amount"]) for e in self.events
                       if e["type"] == "refund.created" and e["data"]["object"]["payment_intent"] == intent["id"])
        refundable = intent["amount_received"] - refunded
        amount = _amount(params, "amount", required=False) or refundable
        if intent["status"] != "succeeded" or amount > refundable:
            raise StripeApiError(400, "invalid_request_error",
                                 f"Refund amount ({amount}) is greater than unrefunded amount on charge ({refundable})",
                                 code="amount_too_large", param="amount")
        refund = {"id": self._id("re"), "object": "refund", "amount": amount, "charge": intent["latest_charge"],
                  "created": next(self._clock), "currency": intent["currency"], "metadata": params.get("metadata", {}),
                  "payment_intent": intent["id"], "reason": params.get("reason"), "status": "succeeded"}
        self._emit("refund.created", refund)
        return refund

    def page(self, items: list[JsonObject], url: str, query: JsonObject) -> JsonObject:
        """Stripe's list object: newest first, ``limit`` and ``starting_after`` cursors."""
        newest_first = sorted(items, key=lambda item: item["created"], reverse=True)
        if after := query.get("starting_after"):
            ids = [item["id"] for item in newest_first]
            newest_first = newest_first[ids.index(after) + 1:] if after in ids else []
        limit = min(int(query.get("limit", 10)), 100)
        return {"object": "list", "url": url, "has_more": len(newest_first) > limit, "data": newest_first[:limit]}

    def route(self, method: str, path: str, params: JsonObject) -> JsonObject:
        parts = path.strip("/").split("/")
        routes: dict[tuple[str, ...], Callable[[], JsonObject]] = {
            ("POST", "payment_intents"): lambda: self.create_intent(params),
            ("GET", "payment_intents"): lambda: self.page(list(self.intents.values()), path, params),
            ("GET", "payment_intents", "*"): lambda: self.intent(parts[2]),
            ("POST", "payment_intents", "*", "confirm"): lambda: self.confirm(parts[2], params),
            ("POST", "payment_intents", "*", "capture"): lambda: self.capture(parts[2], params),
            ("POST", "refunds"): lambda: self.refund(params),
            ("GET", "events"): lambda: self.page(self.events, path, params),
        }
        shape = (method, *[part if index != 2 else "*" for index, part in enumerate(parts[1:], start=1)])
        if parts[0] != "v1" or shape not in routes:
            raise StripeApiError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")
        with self._lock:
            return routes[shape]()

    def handle(self, method: str, path: str, query: str, body: str, headers: dict[str, str]) -> tuple[int, JsonObject]:
        """One HTTP exchange: authenticate, replay by ``Idempotency-Key``, run the endpoint."""
        if headers.get("authorization", "") != f"Bearer {self.api_key}":
            return 401, StripeApiError(401, "invalid_request_error", "Invalid API Key provided.").body
        key = headers.get("idempotency-key")
        with self._lock:
            if key and (method, key) in self._idempotent:
                return self._idempotent[(method, key)]
            try:
                answer = (200, self.route(method, path, parse_form(query if method == "GET" else body)))
            except StripeApiError as error:
                answer = (error.status, error.body)
            if key and answer[0] < 500:
                self._idempotent[(method, key)] = answer
            return answer


class _Handler(BaseHTTPRequestHandler):
    server: "LocalStripeServer"

    def _exchange(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, payload = self.server.stripe.handle(self.command, url.path, url.query, body, headers)
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _exchange

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalStripeServer(ThreadingHTTPServer):
    """``with LocalStripeServer(api_key=…) as server:`` serves on ``server.api_base`` from a daemon thread."""

    daemon_threads = True

    def __init__(self, *, api_key: str, port: int = 0, webhook_url: str | None = None,
                 webhook_secret: str | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.stripe = LocalStripe(api_key=api_key, webhook_url=webhook_url, webhook_secret=webhook_secret)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "LocalStripeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def main() -> None:
    """``python -m commerce.settlement.stripe.local_server PORT API_KEY [WEBHOOK_URL WEBHOOK_SECRET]`` (demo)."""
    import sys

    port, api_key, *webhook = sys.argv[1:]
    server = LocalStripeServer(api_key=api_key, port=int(port), webhook_url=webhook[0] if webhook else None,
                               webhook_secret=webhook[1] if webhook else None)
    print(f"local Stripe stand-in on {server.api_base}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
