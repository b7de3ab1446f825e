"""The portal's routes, under ``/portal/{token}``: the token is the only credential, and
the customer it resolves to is the only one whose data a route reads or changes.

Each POST checks the form secret (:mod:`pastdue.web.portal.forms`), calls one service of
:mod:`pastdue.services.portal` off the event loop, and answers with a redirect to the page
(so a reload does not post twice) or the page again with what to fix (422). A token that
does not open a portal gets the same English refusal, whatever the reason: 410 when it has
expired or was withdrawn (the customer should ask for a new one), 404 otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from pastdue.bootstrap import App, renderer
from pastdue.errors import AccessDenied, NotFound, ProblemsFound
from pastdue.payment_providers import FakeProvider, PaymentProvider
from pastdue.rendering.formatting import format_date, format_money
from pastdue.services import notice_links, portal, portal_documents
from pastdue.services.notice_document import locale_for
from pastdue.services.portal_links import resolve_portal_token
from pastdue.web.portal import documents, pages
from pastdue.web.portal.fake_checkout import fake_checkout_router
from pastdue.web.portal.forms import FIELD, form_ok, form_secret

MAX_BODY = portal.MAX_ATTACHMENT + 64 * 1024
"""A dispute's form: the attachment plus room for the other fields and multipart framing."""

Handler = Callable[[str, FormData], Awaitable[Response]]
"""What a POST does once its token and form secret have checked out: (customer, form) -> page."""

DONE = frozenset({"promise", "dispute", "plan", "paid"})
GONE = frozenset({"expired", "revoked"})


def portal_router(app: App, provider: PaymentProvider | None = None) -> APIRouter:
    """The portal's routes; without a provider, the local fake one (and its checkout page)."""
    router = APIRouter()
    if provider is None:
        fake = FakeProvider("")  # its pages are this app's own: relative URLs work anywhere
        router.include_router(fake_checkout_router(app, fake))
        provider = fake
    chosen: PaymentProvider = provider
    notice_renderer = documents.LazyRenderer(lambda: renderer(app.settings))

    def resolve(token: str) -> str | Response:
        try:
            return resolve_portal_token(app, token)
        except AccessDenied as exc:
            return pages.refusal(410 if exc.reason in GONE else 404)

    def overview(
        token: str, customer_id: str, *, done: str | None = None, problems: Any = (), status: int = 200
    ) -> Response:
        try:
            view = portal.portal_view(app, customer_id)
        except NotFound:
            return pages.refusal(404)
        return pages.page("overview.html", status, **_overview_values(app, token, view, done, problems))

    @router.get("/portal-assets/portal.css")
    def stylesheet() -> Response:
        response = Response(pages.stylesheet(), media_type="text/css")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @router.get("/portal/access/{token}")
    def access(token: str) -> Response:
        """Where links from ``pastdue portal-link`` land; the page itself lives at /portal/{token}."""
        return pages.secured(RedirectResponse(f"/portal/{token}", 303))

    @router.get("/portal/unsubscribe")
    def unsubscribe_page(t: str = "", channel: str = "", address: str = "", sig: str = "") -> Response:
        """The opt-out link of a notice, opened in a browser: one button confirms it."""
        return pages.page(
            "unsubscribe.html", 200, lang="en", page_title="Unsubscribe", tenant=t, channel=channel,
            address=address, sig=sig, done=False,
        )  # fmt: skip

    @router.post("/portal/unsubscribe")
    def unsubscribe(t: str = "", channel: str = "", address: str = "", sig: str = "") -> Response:
        """RFC 8058 one-click: a mail client POSTs here without asking anyone; so does the button."""
        try:
            notice_links.opt_out(app, t, channel, address, sig)
        except AccessDenied:
            return pages.refusal(404)
        return pages.page("unsubscribe.html", 200, lang="en", page_title="Unsubscribed", done=True, address=address)

    @router.get("/portal/{token}")
    def show(
        token: str, done: str | None = None, t: str | None = None, until: str | None = None, sig: str | None = None
    ) -> Response:
        if sig is not None:  # a notice's link: /portal/{customer}?t=&until=&sig=
            try:
                opened = notice_links.open_notice_link(app, token, t or "", until or "", sig)
            except AccessDenied as exc:
                return pages.refusal(410 if exc.reason in GONE else 404)
            except ProblemsFound:
                return pages.refusal(404)
            return pages.secured(RedirectResponse(f"/portal/{opened}", 303))
        customer = resolve(token)
        if isinstance(customer, Response):
            return customer
        return overview(token, customer, done=done if done in DONE else None)

    @router.get("/portal/{token}/invoices/{invoice_id}.pdf")
    def invoice_pdf(token: str, invoice_id: str) -> Response:
        """A copy of one of the customer's own invoices; any other id is simply not found."""
        customer = resolve(token)
        if isinstance(customer, Response):
            return customer
        try:
            copy = portal_documents.invoice_copy(app, customer, invoice_id)
        except NotFound:
            return pages.refusal(404)
        return documents.download(documents.to_pdf(documents.invoice_html(copy)), f"invoice-{copy.number}")

    @router.get("/portal/{token}/notices/{notice_id}.pdf")
    def notice_pdf(token: str, notice_id: str) -> Response:
        """A notice sent to the customer, as the letter channel lays it out."""
        customer = resolve(token)
        if isinstance(customer, Response):
            return customer
        try:
            html = portal_documents.notice_letter_html(app, customer, notice_id, notice_renderer())
        except NotFound:
            return pages.refusal(404)
        return documents.download(documents.to_pdf(html), f"notice-{notice_id[:12]}")

    async def posted(request: Request, token: str, handle: Handler) -> Response:
        """Check the token and the form secret, then let ``handle`` act on the form; the
        form's spooled files are closed whatever happens."""
        customer = await run_in_threadpool(resolve, token)
        if isinstance(customer, Response):
            return customer
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return pages.refusal(413)
        form = await request.form(max_files=1, max_fields=10)
        try:
            if not await run_in_threadpool(form_ok, app, token, request, form.get(FIELD)):
                return pages.refusal(403)
            return await handle(customer, form)
        finally:
            await form.close()

    async def refused(token: str, customer: str, exc: ProblemsFound) -> Response:
        problems = exc.problems
        page: Response = await run_in_threadpool(lambda: overview(token, customer, problems=problems, status=422))
        return page

    async def act(token: str, customer: str, done: str, call: Any, *args: Any) -> Response:
        try:
            await run_in_threadpool(call, app, customer, *args)
        except ProblemsFound as exc:
            return await refused(token, customer, exc)
        return pages.secured(RedirectResponse(f"/portal/{token}?done={done}", 303))

    @router.post("/portal/{token}/promise")
    async def promise(request: Request, token: str) -> Response:
        async def handle(customer: str, form: FormData) -> Response:
            return await act(token, customer, "promise", portal.promise_to_pay, _date(form.get("until")))

        return await posted(request, token, handle)

    @router.post("/portal/{token}/dispute")
    async def dispute(request: Request, token: str) -> Response:
        async def handle(customer: str, form: FormData) -> Response:
            upload = form.get("attachment")
            attachment = None
            if isinstance(upload, UploadFile) and (upload.filename or upload.size):
                data = await upload.read(portal.MAX_ATTACHMENT + 1)  # one byte over is enough to refuse
                attachment = portal.Attachment(upload.filename or "", upload.content_type or "", data)
            number, reason = _text(form.get("invoice")), _text(form.get("reason"))
            return await act(token, customer, "dispute", portal.dispute_invoice, number, reason, attachment)

        return await posted(request, token, handle)

    @router.post("/portal/{token}/plan")
    async def plan(request: Request, token: str) -> Response:
        async def handle(customer: str, form: FormData) -> Response:
            instalments, note = _int(form.get("instalments")), _text(form.get("note"))
            return await act(token, customer, "plan", portal.request_payment_plan, instalments, note)

        return await posted(request, token, handle)

    @router.post("/portal/{token}/pay")
    async def pay(request: Request, token: str) -> Response:
        async def handle(customer: str, form: FormData) -> Response:
            back = f"/portal/{token}?done=paid"
            currency = _text(form.get("currency"))
            try:
                url = await run_in_threadpool(portal.start_checkout, app, customer, currency, chosen, back)
            except ProblemsFound as exc:
                return await refused(token, customer, exc)
            return pages.secured(RedirectResponse(url, 303))

        return await posted(request, token, handle)

    return router


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        return None


def _int(value: object) -> int | None:
    text = _text(value).strip()
    return int(text) if text.isdigit() and len(text) < 6 else None


def _overview_values(app: App, token: str, view: portal.PortalView, done: str | None, problems: Any) -> dict[str, Any]:
    """Everything the overview shows, formatted in the customer's language and locale."""
    language, locale = locale_for(view.customer.language, view.customer.country)
    t = pages.labels(language if language in pages.LANGUAGES else "en")
    max_long = format_date(view.max_promise_on, locale, "long")
    errors: list[str] = []
    for problem in problems:
        key = f"error_{problem.field}"
        message = t[key].format(date=max_long) if key in t else t["error_other"]
        if message not in errors:
            errors.append(message)
    rows = []
    for invoice in view.invoices:
        if invoice.hold is not None:
            until = format_date(invoice.hold_until, locale) if invoice.hold_until else ""
            status, css = t[f"hold_{invoice.hold.value}"].format(date=until), "held"
        elif invoice.days_overdue > 0:
            status, css = t["days_overdue"].format(days=invoice.days_overdue), "overdue"
        else:
            status, css = t["status_open"], "open"
        rows.append(
            {
                "number": invoice.number,
                "due_on": format_date(invoice.due_on, locale),
                "amount": format_money(invoice.amount, locale),
                "open_amount": format_money(invoice.open_amount, locale),
                "status": status,
                "status_class": css,
                "pdf": f"/portal/{token}/invoices/{quote(invoice.id, safe='')}.pdf",
            }
        )
    return {
        "lang": language,
        "page_title": t["title"],
        "t": t,
        "customer": view.customer,
        "base": f"/portal/{token}",
        "csrf": form_secret(app, token),
        "done": t[f"done_{done}"] if done else None,
        "errors": errors,
        "invoices": rows,
        "totals": [format_money(total, locale) for total in view.totals],
        "pay_buttons": [
            {"currency": total.currency, "label": t["pay"].format(amount=format_money(total, locale))}
            for total in view.totals
        ],
        "promised_until": format_date(view.promised_until, locale, "long") if view.promised_until else None,
        "max_promise_long": max_long,
        "min_promise_iso": date.fromordinal(view.today.toordinal() + 1).isoformat(),
        "max_promise_iso": view.max_promise_on.isoformat(),
        "plan_pending": view.open_plan_requests > 0,
        "notices": [
            {
                "label": t["notice_pdf"].format(date=format_date(notice.created_on, locale, "long")),
                "pdf": f"/portal/{token}/notices/{quote(notice.id, safe='')}.pdf",
            }
            for notice in view.notices
        ],
    }
