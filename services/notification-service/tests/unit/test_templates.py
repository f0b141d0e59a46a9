import pytest

from notification_service.domain.emails import TEMPLATES, placeholders, render, validate_template
from notification_service.domain.errors import TemplateSyntaxError, UnknownTemplatePlaceholder
from notification_service.domain.models import InboxKind, Language

PARAMS = {"title": "t", "case_id": "c-1", "programme": "return", "subscription_id": "s-1"}


def test_each_kind_may_use_the_title_and_the_parameters_of_its_shipped_templates() -> None:
    assert placeholders(InboxKind.CASE_OPENED) == {"title", "programme", "case_id"}
    assert placeholders(InboxKind.SURVEY_DUE) == {"title", "administration", "instrument", "due_on", "case_id"}
    assert placeholders(InboxKind.WEBHOOK_PAUSED) == {"title", "subscription_id"}


@pytest.mark.parametrize("kind", list(InboxKind))
@pytest.mark.parametrize("language", list(Language))
def test_every_shipped_template_passes_its_own_validation(kind: InboxKind, language: Language) -> None:
    validate_template(kind, *TEMPLATES[kind][language])


@pytest.mark.parametrize(
    ("subject", "text", "field"),
    [
        ("{{ case_id", "ok", "subject"),
        ("ok", "{% if programme %}open", "text"),
        ("ok", "{{ case_id | no_such_filter }}", "text"),
        ("ok", "{% endfor %}", "text"),
    ],
)
def test_syntax_errors_are_refused_with_the_field(subject: str, text: str, field: str) -> None:
    with pytest.raises(TemplateSyntaxError) as raised:
        validate_template(InboxKind.CASE_OPENED, subject, text)
    assert raised.value.context["pointer"] == f"#/{field}"


@pytest.mark.parametrize(
    ("subject", "text"),
    [("{{ full_name }}", "ok"), ("ok", "{{ due_on }}"), ("ok", "{% for x in cases %}{{ x }}{% endfor %}")],
)
def test_placeholders_the_kind_does_not_have_are_refused(subject: str, text: str) -> None:
    with pytest.raises(UnknownTemplatePlaceholder):
        validate_template(InboxKind.CASE_OPENED, subject, text)


def test_the_sandbox_refuses_reaching_into_objects() -> None:
    with pytest.raises(TemplateSyntaxError):
        validate_template(InboxKind.CASE_OPENED, "ok", "{{ case_id.__class__.__mro__ }}")


def test_an_edited_template_is_used_over_the_shipped_one() -> None:
    mail = render(InboxKind.CASE_OPENED, Language.EN, PARAMS, edited=("Opened: {{ case_id }}", "Case {{ case_id }}"))
    assert (mail.subject, mail.text) == ("Opened: c-1", "Case c-1")
    assert "<p>Case c-1</p>" in mail.html


def test_an_edited_template_that_no_longer_renders_falls_back_to_the_shipped_one() -> None:
    mail = render(InboxKind.CASE_OPENED, Language.FR, PARAMS, edited=("{{ gone }}", "{{ gone }}"))
    assert mail.subject == "Nouveau dossier ouvert"
