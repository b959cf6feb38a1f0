"""The forms a resident fills in with a remote: a list of choices and, where useful, digits from a number pad.

Each form is data: the submission kind it sends, its choices (catalog keys) and which body fields they fill.
The chosen label goes to the city in Chinese, whatever language the resident reads, because staff read Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..web.i18n import DEFAULT_LANGUAGE
from .render import TEXTS


@dataclass(frozen=True)
class FormSpec:
    name: str
    kind: str
    area: str  # the area screen the form opens from, and back goes to
    choices: tuple[str, ...]
    choice_fields: tuple[str, ...]  # body fields that receive the chosen label
    send_index: bool = False  # feedback also sends the choice's number (body.choice)
    number_field: str | None = "phone"
    label_prefix: str = ""
    # Forms that take the resident's own words (pinyin keyboard on the TV, the phone's keyboard): they go in
    # body.text, and the chosen label then fills these fields instead, so the hub still routes by it.
    words_label_fields: tuple[str, ...] = ()

    def choice_keys(self) -> list[str]:
        return [f"choice.{self.name}.{c}" for c in self.choices]

    def labels_for_city(self) -> list[str]:
        zh = TEXTS.catalog(DEFAULT_LANGUAGE)
        return [self.label_prefix + zh[k] for k in self.choice_keys()]


FORMS: dict[str, FormSpec] = {
    f.name: f
    for f in (
        FormSpec("feedback", "feedback", "interaction", ("road", "hygiene", "water", "security", "other"),
                 ("text",), send_index=True, words_label_fields=("category",)),
        FormSpec("consultation", "consultation", "services", ("social", "medical", "household", "relief", "other"),
                 ("text", "category"), words_label_fields=("category",)),
        FormSpec("service_request", "service_request", "services", ("certificate", "subsidy", "repair", "other"),
                 ("service",), words_label_fields=("service",)),
        FormSpec("incident", "incident", "safety", ("fire", "road", "flood", "security", "other"), ("category",),
                 words_label_fields=("category",)),
        FormSpec("care", "service_request", "elderly", ("visit", "meals", "doctor", "other"), ("service",),
                 label_prefix="养老助老："),
    )
}

# What each area screen offers besides its notices: forms, the check-in, the list of streams.
AREA_ACTIONS: dict[str, tuple[str, ...]] = {
    "party": (),
    "services": ("form:consultation", "form:service_request"),
    "community": (),
    "safety": ("form:incident",),
    "elderly": ("checkin", "form:care"),
    "live": ("streams",),
    "interaction": ("form:feedback", "mine"),
    "meetings": ("streams",),
}
