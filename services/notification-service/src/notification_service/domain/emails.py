"""E-mail texts per inbox kind and language, and when a mail may go out (quiet hours, daily digest).

Templates are Jinja2 strings rendered from identifiers and non-sensitive facts only, never names. Arabic is
written right to left: the HTML part carries `dir="rtl"`.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from notification_service.domain.errors import TemplateSyntaxError, UnknownTemplatePlaceholder
from notification_service.domain.models import InboxKind, Language

RTL = frozenset({Language.AR})

# (subject, text) per kind and language; `title` is the inbox title, the rest are the notice's parameters.
TEMPLATES: dict[InboxKind, dict[Language, tuple[str, str]]] = {
    InboxKind.CASE_OPENED: {
        Language.EN: ("New case opened", "A new {{ programme }} case was opened for your office.\nCase: {{ case_id }}"),
        Language.FR: (
            "Nouveau dossier ouvert",
            "Un nouveau dossier ({{ programme }}) a été ouvert pour votre bureau.\nDossier : {{ case_id }}",
        ),
        Language.AR: ("تم فتح ملف جديد", "تم فتح ملف جديد ({{ programme }}) لمكتبكم.\nالملف: {{ case_id }}"),  # noqa: RUF001 - Arabic text
    },
    InboxKind.SURVEY_DUE: {
        Language.EN: (
            "Survey due by {{ due_on }}",
            "The {{ administration }} {{ instrument }} survey is due by {{ due_on }}.\nCase: {{ case_id }}",
        ),
        Language.FR: (
            "Enquête à réaliser avant le {{ due_on }}",
            "L'enquête {{ instrument }} ({{ administration }}) est à réaliser avant le {{ due_on }}.\n"
            "Dossier : {{ case_id }}",
        ),
        Language.AR: (
            "استبيان مستحق قبل {{ due_on }}",
            "استبيان {{ instrument }} ({{ administration }}) مستحق قبل {{ due_on }}.\nالملف: {{ case_id }}",  # noqa: RUF001 - Arabic text
        ),
    },
    InboxKind.WEBHOOK_PAUSED: {
        Language.EN: ("Webhook paused", "{{ title }}.\nResume it with PATCH /v1/subscriptions/{{ subscription_id }}."),
        Language.FR: (
            "Webhook suspendu",
            "{{ title }}.\nRéactivez-le avec PATCH /v1/subscriptions/{{ subscription_id }}.",
        ),
        Language.AR: (
            "تم إيقاف الويب هوك",
            "{{ title }}.\nأعد تفعيله عبر PATCH /v1/subscriptions/{{ subscription_id }}.",
        ),
    },
    InboxKind.CASE_SHARED: {
        Language.EN: (
            "Case shared with your office",
            "{{ owner_office_id }} shared a case with your office ({{ mode }})"
            "{% if expires_at %} until {{ expires_at }}{% endif %}. You see what the beneficiary consented to.\n"
            "Case: {{ case_id }}",
        ),
        Language.FR: (
            "Dossier partagé avec votre bureau",
            "{{ owner_office_id }} a partagé un dossier avec votre bureau ({{ mode }})"
            "{% if expires_at %} jusqu'au {{ expires_at }}{% endif %}. Vous voyez ce que le bénéficiaire a consenti.\n"
            "Dossier : {{ case_id }}",
        ),
        Language.AR: (
            "ملف تمت مشاركته مع مكتبكم",
            "شارك {{ owner_office_id }} ملفًا مع مكتبكم ({{ mode }})"
            "{% if expires_at %} حتى {{ expires_at }}{% endif %}. ترون ما وافق عليه المستفيد فقط.\n"
            "الملف: {{ case_id }}",
        ),
    },
    InboxKind.CASE_TRANSFER_PROPOSED: {
        Language.EN: (
            "Case transfer proposed: answer by {{ respond_by }}",
            "{{ from_office_id }} proposes to hand a case over to your office. Review the preview and accept or "
            "decline by {{ respond_by }}.\nCase: {{ case_id }}",
        ),
        Language.FR: (
            "Transfert de dossier proposé : réponse avant le {{ respond_by }}",
            "{{ from_office_id }} propose de transférer un dossier à votre bureau. Consultez l'aperçu et acceptez "
            "ou refusez avant le {{ respond_by }}.\nDossier : {{ case_id }}",
        ),
        Language.AR: (
            "اقتراح نقل ملف: الرد قبل {{ respond_by }}",
            "يقترح {{ from_office_id }} نقل ملف إلى مكتبكم. راجعوا المعاينة واقبلوا أو ارفضوا قبل {{ respond_by }}.\n"
            "الملف: {{ case_id }}",
        ),
    },
    InboxKind.CASE_TRANSFER_REMINDER: {
        Language.EN: (
            "Reminder: case transfer awaits your answer by {{ respond_by }}",
            "The case transfer proposed by {{ from_office_id }} is still unanswered. Accept or decline by "
            "{{ respond_by }}.\nCase: {{ case_id }}",
        ),
        Language.FR: (
            "Rappel : un transfert de dossier attend votre réponse avant le {{ respond_by }}",
            "Le transfert de dossier proposé par {{ from_office_id }} est toujours sans réponse. Acceptez ou "
            "refusez avant le {{ respond_by }}.\nDossier : {{ case_id }}",
        ),
        Language.AR: (
            "تذكير: نقل ملف بانتظار ردكم قبل {{ respond_by }}",
            "لم يتم الرد بعد على نقل الملف الذي اقترحه {{ from_office_id }}. اقبلوا أو ارفضوا قبل {{ respond_by }}.\n"
            "الملف: {{ case_id }}",
        ),
    },
    InboxKind.CASE_TRANSFERRED: {
        Language.EN: (
            "Case transfer accepted",
            "{{ to_office_id }} accepted the case transfer and owns the case now. Your office keeps only what the "
            "beneficiary's consent allows.\nCase: {{ case_id }}",
        ),
        Language.FR: (
            "Transfert de dossier accepté",
            "{{ to_office_id }} a accepté le transfert et gère désormais le dossier. Votre bureau ne garde que ce "
            "que le consentement du bénéficiaire permet.\nDossier : {{ case_id }}",
        ),
        Language.AR: (
            "تم قبول نقل الملف",
            "قبل {{ to_office_id }} نقل الملف وأصبح مسؤولًا عنه. لا يحتفظ مكتبكم إلا بما تسمح به موافقة المستفيد.\n"
            "الملف: {{ case_id }}",
        ),
    },
    InboxKind.CASE_TRANSFER_ENDED: {
        Language.EN: (
            "Case transfer {% if outcome == 'declined' %}declined{% elif outcome == 'expired' %}expired{% else %}"
            "cancelled{% endif %}",
            "The transfer of a case from {{ from_office_id }} to {{ to_office_id }} ended without a handover "
            "({% if outcome == 'declined' %}declined{% elif outcome == 'expired' %}no answer in time{% else %}"
            "cancelled{% endif %}). {{ from_office_id }} keeps the case.\nCase: {{ case_id }}",
        ),
        Language.FR: (
            "Transfert de dossier {% if outcome == 'declined' %}refusé{% elif outcome == 'expired' %}expiré"
            "{% else %}annulé{% endif %}",
            "Le transfert d'un dossier de {{ from_office_id }} vers {{ to_office_id }} s'est terminé sans passation "
            "({% if outcome == 'declined' %}refusé{% elif outcome == 'expired' %}pas de réponse à temps{% else %}"
            "annulé{% endif %}). {{ from_office_id }} garde le dossier.\nDossier : {{ case_id }}",
        ),
        Language.AR: (
            "{% if outcome == 'declined' %}تم رفض{% elif outcome == 'expired' %}انتهت مهلة{% else %}تم إلغاء"
            "{% endif %} نقل الملف",
            "انتهى نقل ملف من {{ from_office_id }} إلى {{ to_office_id }} دون تسليم "
            "({% if outcome == 'declined' %}مرفوض{% elif outcome == 'expired' %}لا رد في الموعد{% else %}ملغى"
            "{% endif %}). يبقى الملف لدى {{ from_office_id }}.\nالملف: {{ case_id }}",  # noqa: RUF001 - Arabic text
        ),
    },
    InboxKind.BREAK_GLASS_USED: {
        Language.EN: (
            "Urgent: emergency access to a case of your office",
            "{{ actor }} opened a case of your office under an emergency (break-glass) grant, valid until "
            "{{ expires_at }}. The justification is in the audit log; a review is due.\nCase: {{ case_id }}",
        ),
        Language.FR: (
            "Urgent : accès d'urgence à un dossier de votre bureau",
            "{{ actor }} a ouvert un dossier de votre bureau avec un accès d'urgence (bris de glace), valable "
            "jusqu'au {{ expires_at }}. La justification figure au journal d'audit ; un examen est dû.\n"
            "Dossier : {{ case_id }}",
        ),
        Language.AR: (
            "عاجل: وصول طارئ إلى ملف لدى مكتبكم",
            "فتح {{ actor }} ملفًا لدى مكتبكم بإذن وصول طارئ صالح حتى {{ expires_at }}. "
            "المبرر مسجل في سجل التدقيق، والمراجعة مستحقة.\nالملف: {{ case_id }}",  # noqa: RUF001 - Arabic text
        ),
    },
    InboxKind.FOLLOW_UP_DUE: {
        Language.EN: (
            "Follow-up visit overdue: planned for {{ planned_on }}",
            "The {% if phase == 'post_closure' %}post-closure monitoring{% else %}follow-up{% endif %} "
            "{% if visit_kind == 'phone' %}phone call{% elif visit_kind == 'office' %}office visit{% else %}"
            "home visit{% endif %} planned for {{ planned_on }} has not been recorded. Record its outcome, or plan "
            "a new visit.\nCase: {{ case_id }}\nVisit: {{ visit_id }}",
        ),
        Language.FR: (
            "Visite de suivi en retard : prévue le {{ planned_on }}",
            "Le contact de {% if phase == 'post_closure' %}suivi post-clôture{% else %}suivi{% endif %} "
            "({% if visit_kind == 'phone' %}appel téléphonique{% elif visit_kind == 'office' %}entretien au bureau"
            "{% else %}visite à domicile{% endif %}) prévu le {{ planned_on }} n'a pas été enregistré. Enregistrez "
            "son résultat ou planifiez une nouvelle visite.\nDossier : {{ case_id }}\nVisite : {{ visit_id }}",
        ),
        Language.AR: (
            "زيارة متابعة متأخرة: مقررة في {{ planned_on }}",
            "لم يُسجَّل تواصل {% if phase == 'post_closure' %}المتابعة بعد الإغلاق{% else %}المتابعة{% endif %} "
            "({% if visit_kind == 'phone' %}مكالمة هاتفية{% elif visit_kind == 'office' %}مقابلة في المكتب"
            "{% else %}زيارة منزلية{% endif %}) المقرر في {{ planned_on }}. سجّلوا نتيجته أو خططوا لزيارة جديدة.\n"
            "الملف: {{ case_id }}\nالزيارة: {{ visit_id }}",  # noqa: RUF001 - Arabic text
        ),
    },
    InboxKind.WITHDRAWAL_RECEIPT_OVERDUE: {
        Language.EN: (
            "Urgent: a consent withdrawal was not confirmed by {{ holder }}",
            "{{ holder }} holds copies covered by a consent withdrawal and has not confirmed that it purged or "
            "redacted them by {{ acknowledge_by }}. As data controller, follow it up with the holder; the "
            "compliance view lists the withdrawal.\nWithdrawal: {{ withdrawal_id }}\nConsent: {{ consent_id }}",
        ),
        Language.FR: (
            "Urgent : retrait de consentement non confirmé par {{ holder }}",
            "{{ holder }} détient des copies visées par un retrait de consentement et n'a pas confirmé les avoir "
            "supprimées ou expurgées avant le {{ acknowledge_by }}. En tant que responsable du traitement, "
            "relancez ce détenteur ; la vue de conformité liste le retrait.\nRetrait : {{ withdrawal_id }}\n"
            "Consentement : {{ consent_id }}",
        ),
        Language.AR: (
            "عاجل: لم يؤكد {{ holder }} سحب الموافقة",
            "يحتفظ {{ holder }} بنسخ يشملها سحب الموافقة ولم يؤكد حذفها أو تنقيحها قبل {{ acknowledge_by }}. "
            "بصفتكم مسؤولي المعالجة، تابعوا الأمر مع الجهة الحائزة؛ ويظهر السحب في عرض الامتثال.\n"
            "السحب: {{ withdrawal_id }}\nالموافقة: {{ consent_id }}",  # noqa: RUF001 - Arabic text
        ),
    },
}
DIGEST_SUBJECT = {
    Language.EN: "CaseBridge: {{ count }} notifications",
    Language.FR: "CaseBridge : {{ count }} notifications",
    Language.AR: "CaseBridge: {{ count }} إشعارات",
}
HTML_LAYOUT = """<!DOCTYPE html>
<html lang="{{ lang }}" dir="{{ dir }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif" dir="{{ dir }}">
{% for section in sections %}<h2>{{ section.subject }}</h2>
{% for line in section.text.splitlines() %}<p>{{ line }}</p>
{% endfor %}{% endfor %}</body></html>
"""

_text = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701 - plain text
_html = Environment(undefined=StrictUndefined, autoescape=True)
# Office-edited templates: sandboxed, so a template can reach no attribute or call outside plain values.
_edited = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def placeholders(kind: InboxKind) -> frozenset[str]:
    """What a template of this kind may use: the inbox title and every parameter its shipped templates use."""
    names = {"title"}
    for subject, text in TEMPLATES[kind].values():
        for source in (subject, text):
            names |= meta.find_undeclared_variables(_text.parse(source))
    return frozenset(names)


def validate_template(kind: InboxKind, subject: str, text: str) -> None:
    """Raises `TemplateSyntaxError` or `UnknownTemplatePlaceholder`; also renders once with sample values."""
    allowed = placeholders(kind)
    for field, source in (("subject", subject), ("text", text)):
        try:
            used = meta.find_undeclared_variables(_edited.parse(source))
        except TemplateError as exc:
            raise TemplateSyntaxError(f"{field}: {exc}", pointer=f"#/{field}") from exc
        unknown = sorted(used - allowed)
        if unknown:
            raise UnknownTemplatePlaceholder(
                f"{field}: unknown placeholder(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
                pointer=f"#/{field}",
            )
        try:
            _edited.from_string(source).render(**dict.fromkeys(allowed, "x"))
        except TemplateError as exc:
            raise TemplateSyntaxError(f"{field}: {exc}", pointer=f"#/{field}") from exc


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class _Section:
    subject: str
    text: str


def _html_of(language: Language, subject: str, sections: list[_Section]) -> str:
    return _html.from_string(HTML_LAYOUT).render(
        lang=language.value, dir="rtl" if language in RTL else "ltr", subject=subject, sections=sections
    )


def _texts(
    kind: InboxKind, language: Language, params: dict[str, str], edited: tuple[str, str] | None
) -> tuple[str, str]:
    if edited is not None:
        with suppress(TemplateError):  # an edited template that no longer renders falls back to the shipped one
            return _edited.from_string(edited[0]).render(**params).strip(), _edited.from_string(edited[1]).render(
                **params
            )
    subject_template, text_template = TEMPLATES[kind][language]
    return _text.from_string(subject_template).render(**params).strip(), _text.from_string(text_template).render(
        **params
    )


def render(
    kind: InboxKind, language: Language, params: dict[str, str], *, edited: tuple[str, str] | None = None
) -> RenderedMail:
    """From `edited` (an office's own subject and text) when given and it renders, else the shipped template."""
    subject, text = _texts(kind, language, params, edited)
    return RenderedMail(subject=subject, text=text, html=_html_of(language, subject, [_Section(subject, text)]))


def render_digest(language: Language, mails: list[RenderedMail]) -> RenderedMail:
    """One mail for several notices, in the order they happened."""
    subject = _text.from_string(DIGEST_SUBJECT[language]).render(count=len(mails))
    text = "\n\n".join(f"{m.subject}\n{m.text}" for m in mails)
    return RenderedMail(
        subject=subject, text=text, html=_html_of(language, subject, [_Section(m.subject, m.text) for m in mails])
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    """A recipient's delivery window: quiet hours (local time; may span midnight) and an optional daily digest."""

    timezone: str = "UTC"
    quiet_start: time | None = None
    quiet_end: time | None = None
    digest: bool = False
    digest_at: time = time(7, 0)

    def _in_quiet_hours(self, local: time) -> bool:
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def send_at(self, now: datetime) -> datetime:
        """Now, or the end of quiet hours, or the next digest time: the earliest moment the mail may go."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        if self.digest:
            candidate = datetime.combine(local.date(), self.digest_at, tzinfo=zone)
            return (
                candidate
                if candidate > local
                else datetime.combine(local.date() + timedelta(days=1), self.digest_at, tzinfo=zone)
            )
        if not self._in_quiet_hours(local.timetz().replace(tzinfo=None)):
            return now
        assert self.quiet_end is not None  # noqa: S101 - in quiet hours, so both ends are set
        end = datetime.combine(local.date(), self.quiet_end, tzinfo=zone)
        return end if end > local else datetime.combine(local.date() + timedelta(days=1), self.quiet_end, tzinfo=zone)


def preference_key(office_id: str | None, organisation_id: str | None, subject: str | None) -> str:
    base = f"office:{office_id}" if office_id is not None else f"organisation:{organisation_id}"
    return base if subject is None else f"{base}|user:{subject}"


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):
        return False
    return True
