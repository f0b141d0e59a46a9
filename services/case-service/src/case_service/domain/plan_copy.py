"""The beneficiary's copy of a reintegration (or integration) plan: every field of the Annex 3 template
(reintegration.md §8.1) and the plan content of §8.2, labelled in the beneficiary's language where a
translation exists (English, French, Arabic), English otherwise. Pure: the rendering to HTML is the service
layer's; here the plan's stored content becomes labelled sections of plain strings.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from casebridge_common.events.contracts.case import Programme


class CopyLanguage(StrEnum):
    EN = "en"
    FR = "fr"
    AR = "ar"


RTL = frozenset({CopyLanguage.AR})
FALLBACK = CopyLanguage.EN


def choose_language(requested: str | None, spoken: Sequence[str] = ()) -> tuple[CopyLanguage, bool]:
    """The language of the copy, and whether it falls back to English for lack of a translation. The
    requested language (a BCP 47 tag: its primary subtag counts) wins; else the first of the beneficiary's
    languages with a translation; else English."""
    wanted = [requested] if requested else list(spoken)
    for tag in wanted:
        primary = tag.split("-", 1)[0].split("_", 1)[0].strip().lower()
        if primary in {lang.value for lang in CopyLanguage}:
            return CopyLanguage(primary), False
    return FALLBACK, bool(wanted)


_EN: dict[str, str] = {
    "title.return_reintegration": "Reintegration plan",
    "title.resettlement_integration": "Integration plan",
    "copy_for": "Beneficiary's copy",
    "language_fallback": (
        "No translation exists in the language asked for or spoken by the beneficiary; this copy is in English."
    ),
    "version": "Version",
    "status": "Status",
    "status.draft": "Draft",
    "status.approved": "Approved",
    "status.superseded": "Superseded",
    "header": "Header",
    "name": "Name",
    "case_id": "ID",
    "place_of_return": "Place of return (region, city or village)",
    "withheld": "Not shown",
    "empty": "—",
    "yes": "Yes",
    "no": "No",
    "section.summary": "1. Summary of the returnee's plan",
    "summary_economic": "Economic",
    "summary_social": "Social",
    "summary_psychosocial": "Psychosocial",
    "section.assistance": "2. Type of assistance",
    "immediate": "Immediate assistance",
    "cash_assistance": "Cash assistance",
    "basic_needs": "Basic needs (food, clothes and so on)",
    "accommodation": "Accommodation",
    "medical": "Medical",
    "other": "Other",
    "longer_term": "Longer-term assistance",
    "item.type": "Assistance",
    "item.sub_type": "Kind of activity",
    "item.medical_target": "For",
    "item.needs_referral": "Does it need a referral?",
    "item.specify": "Please specify",
    "type.cash_for_work": "Cash for work",
    "type.income_generating_activity": "Income-generating activity (creation or strengthening)",
    "type.job_placement": "Job placement",
    "type.vocational_training": "Vocational training",
    "type.housing_support": "Housing support",
    "type.medical_support": "Medical support",
    "type.educational_support": "Educational support",
    "type.skills_development": "Skills development",
    "type.legal_services": "Legal services",
    "type.social_protection_schemes": "Social protection schemes",
    "type.child_care": "Child care",
    "type.special_security_measures": "Special security measures",
    "type.individual_and_family_level_activities": "Individual and family level activities",
    "type.community_level_activities": "Community level activities",
    "type.other": "Other (please detail)",
    "sub.individual_microbusiness": "Individual microbusiness",
    "sub.collective_project": "Collective project",
    "sub.community_project": "Community project",
    "sub.other": "Other",
    "target.returnee": "Returnee",
    "target.family": "Family",
    "section.grant": "3. Indicative list of goods, equipment and services to be bought with the reintegration grant",
    "grant.description": "Goods / equipment / services",
    "grant.estimated_cost": "Estimated cost",
    "grant.total": "Total",
    "section.referrals": "4. List of referrals to be made",
    "referral.agency": "Agency",
    "referral.assistance": "Assistance to be provided",
    "section.scores": "5. Expected improvement in psychological, social and economic well-being after assistance",
    "scores.baseline": "Baseline reintegration score",
    "scores.economic": "Economic",
    "scores.social": "Social",
    "scores.psychosocial": "Psychosocial",
    "scores.composite": "Composite",
    "section.community": "6. If the project is at community level",
    "community.name": "Name",
    "community.role": "Role",
    "section.arrangements": "How the plan is carried out",
    "objectives": "Objectives",
    "monitoring_arrangements": "How and when the case will be monitored",
    "information_sharing_arrangements": "How information is shared",
    "estimated_duration_months": "Estimated duration (months)",
    "exit_strategy": "Exit strategy",
    "mainstream_transition": "Transition to mainstream services",
    "section.sign_off": "Sign-off",
    "done_on": "Done on",
    "done_in": "In",
    "returnee_signature": "Approved by the returnee (name and signature)",
    "staff_or_partner_signature": "Approved by staff or referral partner (name and signature)",
    "signed_on": "Signed on",
}

_FR: dict[str, str] = {
    "title.return_reintegration": "Plan de réintégration",
    "title.resettlement_integration": "Plan d'intégration",
    "copy_for": "Exemplaire du bénéficiaire",
    "language_fallback": (
        "Aucune traduction n'existe dans la langue demandée ou parlée par le bénéficiaire ; "
        "cet exemplaire est en anglais."
    ),
    "version": "Version",
    "status": "Statut",
    "status.draft": "Projet",
    "status.approved": "Approuvé",
    "status.superseded": "Remplacé",
    "header": "En-tête",
    "name": "Nom",
    "case_id": "Identifiant",
    "place_of_return": "Lieu de retour (région, ville ou village)",
    "withheld": "Non affiché",
    "empty": "—",
    "yes": "Oui",
    "no": "Non",
    "section.summary": "1. Résumé du plan de la personne de retour",
    "summary_economic": "Économique",
    "summary_social": "Social",
    "summary_psychosocial": "Psychosocial",
    "section.assistance": "2. Type d'assistance",
    "immediate": "Assistance immédiate",
    "cash_assistance": "Assistance en espèces",
    "basic_needs": "Besoins essentiels (nourriture, vêtements, etc.)",
    "accommodation": "Hébergement",
    "medical": "Médical",
    "other": "Autre",
    "longer_term": "Assistance à plus long terme",
    "item.type": "Assistance",
    "item.sub_type": "Type d'activité",
    "item.medical_target": "Pour",
    "item.needs_referral": "Une orientation est-elle nécessaire ?",
    "item.specify": "Veuillez préciser",
    "type.cash_for_work": "Argent contre travail",
    "type.income_generating_activity": "Activité génératrice de revenus (création ou renforcement)",
    "type.job_placement": "Placement professionnel",
    "type.vocational_training": "Formation professionnelle",
    "type.housing_support": "Aide au logement",
    "type.medical_support": "Soutien médical",
    "type.educational_support": "Soutien à l'éducation",
    "type.skills_development": "Développement des compétences",
    "type.legal_services": "Services juridiques",
    "type.social_protection_schemes": "Régimes de protection sociale",
    "type.child_care": "Garde d'enfants",
    "type.special_security_measures": "Mesures de sécurité particulières",
    "type.individual_and_family_level_activities": "Activités individuelles et familiales",
    "type.community_level_activities": "Activités communautaires",
    "type.other": "Autre (veuillez préciser)",
    "sub.individual_microbusiness": "Micro-entreprise individuelle",
    "sub.collective_project": "Projet collectif",
    "sub.community_project": "Projet communautaire",
    "sub.other": "Autre",
    "target.returnee": "Personne de retour",
    "target.family": "Famille",
    "section.grant": (
        "3. Liste indicative des biens, équipements et services à acheter avec l'allocation de réintégration"
    ),
    "grant.description": "Biens / équipements / services",
    "grant.estimated_cost": "Coût estimé",
    "grant.total": "Total",
    "section.referrals": "4. Liste des orientations à effectuer",
    "referral.agency": "Organisme",
    "referral.assistance": "Assistance à fournir",
    "section.scores": "5. Amélioration attendue du bien-être psychologique, social et économique après l'assistance",
    "scores.baseline": "Score de réintégration de référence",
    "scores.economic": "Économique",
    "scores.social": "Social",
    "scores.psychosocial": "Psychosocial",
    "scores.composite": "Composite",
    "section.community": "6. Si le projet est communautaire",
    "community.name": "Nom",
    "community.role": "Rôle",
    "section.arrangements": "Mise en œuvre du plan",
    "objectives": "Objectifs",
    "monitoring_arrangements": "Comment et quand le suivi du dossier aura lieu",
    "information_sharing_arrangements": "Comment les informations sont partagées",
    "estimated_duration_months": "Durée estimée (mois)",
    "exit_strategy": "Stratégie de sortie",
    "mainstream_transition": "Passage aux services ordinaires",
    "section.sign_off": "Signatures",
    "done_on": "Fait le",
    "done_in": "À",
    "returnee_signature": "Approuvé par la personne de retour (nom et signature)",
    "staff_or_partner_signature": "Approuvé par le personnel ou le partenaire d'orientation (nom et signature)",
    "signed_on": "Signé le",
}

_AR: dict[str, str] = {
    "title.return_reintegration": "خطة إعادة الإدماج",
    "title.resettlement_integration": "خطة الإدماج",
    "copy_for": "نسخة المستفيد",
    "language_fallback": "لا توجد ترجمة باللغة المطلوبة أو بلغة المستفيد؛ هذه النسخة باللغة الإنجليزية.",
    "version": "الإصدار",
    "status": "الحالة",
    "status.draft": "مسودة",
    "status.approved": "معتمدة",
    "status.superseded": "مستبدلة",
    "header": "البيانات الأساسية",
    "name": "الاسم",
    "case_id": "رقم الملف",
    "place_of_return": "مكان العودة (المنطقة أو المدينة أو القرية)",
    "withheld": "غير معروض",
    "empty": "—",
    "yes": "نعم",
    "no": "لا",
    "section.summary": "1. ملخص خطة العائد",
    "summary_economic": "اقتصادي",
    "summary_social": "اجتماعي",
    "summary_psychosocial": "نفسي اجتماعي",
    "section.assistance": "2. نوع المساعدة",
    "immediate": "المساعدة الفورية",
    "cash_assistance": "مساعدة نقدية",
    "basic_needs": "الاحتياجات الأساسية (الغذاء والملابس وما إلى ذلك)",
    "accommodation": "السكن",
    "medical": "طبية",
    "other": "أخرى",
    "longer_term": "المساعدة على المدى الأطول",
    "item.type": "المساعدة",
    "item.sub_type": "نوع النشاط",
    "item.medical_target": "لصالح",
    "item.needs_referral": "هل تحتاج إلى إحالة؟",
    "item.specify": "يرجى التحديد",
    "type.cash_for_work": "النقد مقابل العمل",
    "type.income_generating_activity": "نشاط مدر للدخل (إنشاء أو تعزيز)",
    "type.job_placement": "التوظيف",
    "type.vocational_training": "التدريب المهني",
    "type.housing_support": "دعم السكن",
    "type.medical_support": "الدعم الطبي",
    "type.educational_support": "الدعم التعليمي",
    "type.skills_development": "تنمية المهارات",
    "type.legal_services": "الخدمات القانونية",
    "type.social_protection_schemes": "برامج الحماية الاجتماعية",
    "type.child_care": "رعاية الأطفال",
    "type.special_security_measures": "تدابير أمنية خاصة",
    "type.individual_and_family_level_activities": "أنشطة على المستوى الفردي والأسري",
    "type.community_level_activities": "أنشطة على مستوى المجتمع المحلي",
    "type.other": "أخرى (يرجى التفصيل)",
    "sub.individual_microbusiness": "مشروع فردي صغير جداً",
    "sub.collective_project": "مشروع جماعي",
    "sub.community_project": "مشروع مجتمعي",
    "sub.other": "أخرى",
    "target.returnee": "العائد",
    "target.family": "الأسرة",
    "section.grant": "3. قائمة إرشادية بالسلع والمعدات والخدمات التي ستُشترى بمنحة إعادة الإدماج",
    "grant.description": "السلع / المعدات / الخدمات",
    "grant.estimated_cost": "التكلفة التقديرية",
    "grant.total": "المجموع",
    "section.referrals": "4. قائمة الإحالات المطلوبة",
    "referral.agency": "الجهة",
    "referral.assistance": "المساعدة المقدمة",
    "section.scores": "5. التحسن المتوقع في الرفاه النفسي والاجتماعي والاقتصادي بعد المساعدة",
    "scores.baseline": "درجة إعادة الإدماج الأساسية",
    "scores.economic": "اقتصادي",
    "scores.social": "اجتماعي",
    "scores.psychosocial": "نفسي اجتماعي",
    "scores.composite": "مركّب",
    "section.community": "6. إذا كان المشروع على مستوى المجتمع المحلي",
    "community.name": "الاسم",
    "community.role": "الدور",
    "section.arrangements": "تنفيذ الخطة",
    "objectives": "الأهداف",
    "monitoring_arrangements": "كيف ومتى ستتم متابعة الملف",
    "information_sharing_arrangements": "كيف تتم مشاركة المعلومات",
    "estimated_duration_months": "المدة التقديرية (بالأشهر)",
    "exit_strategy": "استراتيجية الخروج",
    "mainstream_transition": "الانتقال إلى الخدمات العامة",
    "section.sign_off": "التوقيع",
    "done_on": "حُرر بتاريخ",
    "done_in": "في",
    "returnee_signature": "موافقة العائد (الاسم والتوقيع)",
    "staff_or_partner_signature": "موافقة الموظف أو شريك الإحالة (الاسم والتوقيع)",
    "signed_on": "تاريخ التوقيع",
}

LABELS: Mapping[CopyLanguage, Mapping[str, str]] = {CopyLanguage.EN: _EN, CopyLanguage.FR: _FR, CopyLanguage.AR: _AR}


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class CopySection:
    title: str
    rows: tuple[Row, ...] = ()
    tables: tuple[Table, ...] = ()
    subtitle: str | None = None


@dataclass(frozen=True, slots=True)
class PlanCopy:
    """Everything the printable copy shows, as plain strings (the renderer escapes them)."""

    language: CopyLanguage
    fell_back: bool
    title: str
    subtitle: str
    notice: str | None
    sections: tuple[CopySection, ...] = field(default_factory=tuple)

    @property
    def direction(self) -> str:
        return "rtl" if self.language in RTL else "ltr"


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What the copy is made from; `None` for a part the reader may not see (it is printed as not shown)."""

    programme: Programme
    case_id: str
    plan_version: int
    plan_status: str
    content: Mapping[str, object]
    beneficiary_name: str | None
    show_financial: bool
    show_scores: bool


def _str(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _map(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _rows(value: object) -> list[Mapping[str, object]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def build_copy(facts: PlanFacts, language: CopyLanguage, *, fell_back: bool) -> PlanCopy:
    t = LABELS[language]
    content = facts.content

    def text(value: object) -> str:
        return _str(value) or t["empty"]

    def yes_no(value: object) -> str:
        return t["yes"] if value is True else t["no"]

    def signature(value: object) -> str:
        signed = _map(value)
        if not signed:
            return t["empty"]
        return f"{text(signed.get('name'))} — {t['signed_on']} {text(signed.get('signed_on'))}"

    immediate = _map(content.get("immediate_assistance"))
    other_immediate = _str(immediate.get("other"))
    items = tuple(
        (
            t.get(f"type.{item.get('type')}", text(item.get("type"))),
            t.get(f"sub.{item.get('income_generating_sub_type')}", t["empty"]),
            ", ".join(t.get(f"target.{x}", str(x)) for x in _list(item.get("medical_target"))) or t["empty"],
            yes_no(item.get("needs_referral")),
            text(item.get("specify")),
        )
        for item in _rows(content.get("items"))
    )
    lines = _rows(content.get("grant_lines"))
    currency = _str(content.get("grant_currency")) or ""
    cost_header = f"{t['grant.estimated_cost']} ({currency})" if currency else t["grant.estimated_cost"]
    total = sum(float(c) for line in lines if isinstance(c := line.get("estimated_cost"), int | float))
    grant = (
        Table(
            headers=(t["grant.description"], cost_header),
            rows=tuple((text(line.get("description")), text(_float(line.get("estimated_cost")))) for line in lines),
            footer=(t["grant.total"], text(round(total, 2))),
        )
        if facts.show_financial
        else Table(headers=(t["grant.description"],), rows=tuple((text(line.get("description")),) for line in lines))
    )
    scores = _map(content.get("baseline_scores"))
    score_names = ("economic", "social", "psychosocial", "composite")
    sections = (
        CopySection(
            title=t["header"],
            rows=(
                Row(t["name"], t["withheld"] if facts.beneficiary_name is None else text(facts.beneficiary_name)),
                Row(t["case_id"], facts.case_id),
                Row(t["place_of_return"], text(content.get("place_of_return"))),
                Row(t["version"], str(facts.plan_version)),
                Row(t["status"], t.get(f"status.{facts.plan_status}", facts.plan_status)),
            ),
        ),
        CopySection(
            title=t["section.summary"],
            rows=tuple(
                Row(t[k], text(content.get(k))) for k in ("summary_economic", "summary_social", "summary_psychosocial")
            ),
        ),
        CopySection(
            title=t["section.assistance"],
            subtitle=t["immediate"],
            rows=(
                *(
                    Row(t[k], yes_no(immediate.get(k)))
                    for k in ("cash_assistance", "basic_needs", "accommodation", "medical")
                ),
                Row(t["other"], other_immediate or t["no"]),
            ),
            tables=(
                Table(
                    headers=(
                        t["longer_term"],
                        t["item.sub_type"],
                        t["item.medical_target"],
                        t["item.needs_referral"],
                        t["item.specify"],
                    ),
                    rows=items,
                ),
            ),
        ),
        CopySection(title=t["section.grant"], tables=(grant,)),
        CopySection(
            title=t["section.referrals"],
            tables=(
                Table(
                    headers=(t["referral.agency"], t["referral.assistance"]),
                    rows=tuple(
                        (text(r.get("agency")), text(r.get("assistance_to_be_provided")))
                        for r in _rows(content.get("referrals"))
                    ),
                ),
            ),
        ),
        CopySection(
            title=t["section.scores"],
            subtitle=t["scores.baseline"],
            rows=tuple(
                Row(t[f"scores.{name}"], text(_float(scores.get(name))) if facts.show_scores else t["withheld"])
                for name in score_names
            ),
        ),
        CopySection(
            title=t["section.community"],
            tables=(
                Table(
                    headers=(t["community.name"], t["community.role"]),
                    rows=tuple(
                        (text(m.get("name")), text(m.get("role"))) for m in _rows(content.get("community_roster"))
                    ),
                ),
            ),
        ),
        CopySection(
            title=t["section.arrangements"],
            rows=tuple(
                Row(t[k], text(content.get(k)))
                for k in (
                    "objectives",
                    "monitoring_arrangements",
                    "information_sharing_arrangements",
                    "estimated_duration_months",
                    "exit_strategy",
                    "mainstream_transition",
                )
            ),
        ),
        CopySection(
            title=t["section.sign_off"],
            rows=(
                Row(t["done_on"], text(content.get("done_on"))),
                Row(t["done_in"], text(content.get("done_in"))),
                Row(t["returnee_signature"], signature(content.get("returnee_signature"))),
                Row(t["staff_or_partner_signature"], signature(content.get("staff_or_partner_signature"))),
            ),
        ),
    )
    return PlanCopy(
        language=language,
        fell_back=fell_back,
        title=t[f"title.{facts.programme.value}"],
        subtitle=t["copy_for"],
        notice=t["language_fallback"] if fell_back else None,
        sections=sections,
    )


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _float(value: object) -> object:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
