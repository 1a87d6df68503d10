"""What every coded value means, shown on the methodology page.

Keyed by the models' own choices, so a value added to a model without a definition here is caught
by the test suite.
"""

from .models import Document, Election, Excerpt, Mission, Organisation

DEFINITIONS = {
    Excerpt.Stance: {
        "positive": "The passage judges the election, or the aspect it speaks about, favourably.",
        "mixed": "The passage weighs positive findings against shortcomings.",
        "critical": "The passage finds shortcomings, violations or unmet commitments.",
        "neutral": "The passage describes without judging (facts, figures, procedure).",
    },
    Mission.Verdict: {
        "endorsed": "The mission found the election free and fair, or in line with standards, without reservations.",
        "endorsed_with_reservations": "Broadly positive, with reservations that do not change the overall judgement.",
        "mixed": "The mission weighed positive findings and serious shortcomings without an overall endorsement.",
        "critical": "The mission found the election fell short of standards or commitments in important ways.",
        "strongly_critical": "The mission found the election fundamentally flawed or without genuine choice.",
        "no_public_assessment": "The mission published no overall assessment.",
    },
    Excerpt.Fidelity: {
        "accurate": "The characterisation reports what the observers said without distorting it.",
        "selective": "It reports some of what they said but drops the caveat or the conclusion that changes its sense.",
        "overstated": "It reports what they said as stronger or more favourable than they put it.",
        "inverted": "It reports the opposite of what they said.",
        "misattributed": "It attributes to one organisation what another said (for example “OSCE” for the CIS).",
        "unsupported": "Nothing the observers published supports it.",
        "not_checked": "The editors have not yet compared it with the observers' own words.",
    },
    Document.Provenance: {
        "own_copy": "The record links to the publisher's own copy of the text.",
        "official_reprint": "The record links to a reprint authorised by, or published for, the author.",
        "news_rendering": (
            "The record links to a news agency's rendering of the text, which may shorten or paraphrase it."
        ),
        "mirror": "The record links to a copy kept by a third party; lower reliability than the publisher's own.",
    },
    Mission.Type: {
        "eom": "A full election observation mission: core team, long-term and short-term observers.",
        "limited_eom": "A core team and long-term observers, without systematic observation of election day.",
        "assessment": "A small team of experts assessing the process, without observers in the field.",
        "expert_team": "Experts looking at particular aspects of the process.",
        "needs_assessment": "A visit before the election to recommend whether and how to observe.",
        "parliamentary_delegation": "Members of a parliamentary assembly observing, usually around election day.",
        "other": "Any other observation, including observers accredited without a formal mission.",
    },
    Document.Kind: {
        "needs_assessment": "The report of a needs-assessment mission, before the election.",
        "interim": "A report during the mission, before election day.",
        "preliminary": "The statement of preliminary findings and conclusions, usually the day after the election.",
        "final": "The final report, usually weeks or months after the election, with recommendations.",
        "press_release": "A press release by the organisation.",
        "press_conference": "Words spoken at a press conference or briefing.",
        "op_ed": "An opinion article or comment, for example by a minister.",
        "news": "A news report.",
        "other": "Any other text.",
    },
    Excerpt.TranslationStatus: {
        "official": "A translation published by the organisation itself.",
        "unofficial": "A translation by someone else, not endorsed by the organisation.",
        "editor": "A translation by the record's editors.",
    },
    Organisation.Kind: {
        "intergovernmental": "A body of governments, such as the OSCE's ODIHR or the CIS Executive Committee.",
        "parliamentary_assembly": "An assembly of members of parliament, such as PACE or the OSCE PA.",
        "international_ngo": "A non-governmental organisation working across countries.",
        "citizen_observers": "A domestic, non-partisan group of citizen observers.",
        "government": "A government body, such as a foreign ministry or a parliament.",
        "election_commission": "An election administration body.",
        "news": "A news agency or outlet.",
        "other": "Any other publisher.",
    },
    Election.Kind: {
        "parliamentary": "Elections to a national parliament or one of its chambers.",
        "presidential": "Elections of a head of state.",
        "referendum": "A vote on a question rather than on candidates.",
        "local": "Elections to local councils or offices.",
        "regional": "Elections to regional assemblies or offices.",
        "other": "Any other election.",
    },
}


def vocabulary(choices):
    """(value, label, definition) for every value of a model's choices."""
    definitions = DEFINITIONS[choices]
    return [(value, label, definitions.get(value, "")) for value, label in choices.choices]
