"""Load the demo data set: the 2016 and 2021 Kazakhstan Mazhilis elections.

Built only from shared/data/kazakhstan-facts.md and shared/data/seed-op-ed.txt: every quote is verbatim
from one of them, and a field the sheet does not give is left empty. The source keys (K1 …) are the
sheet's. Running the command again changes nothing: records are looked up by natural key and saved only
when a value differs, so no history row is written for an unchanged record.
"""

import datetime
from collections import Counter

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from observers.models import Document, Election, Excerpt, Mission, Organisation, Topic

K1 = "https://en.inform.kz/news/election-observers-play-important-part-in-helping-in-our-progress-fm-idrissov_a2883923/"
K2 = "https://astanatimes.com/2016/03/1-3"
K4 = "https://docslib.org/doc/1705872/english-version-of-this-report-is-the-only-official-document"
K5 = "https://odihr.osce.org/odihr/elections/kazakhstan/222541"
K6 = "https://docslib.org/doc/11640757/osce-odihr-election-observation-mission"
K7 = (
    "https://fdocuments.in/document/"
    "republic-of-kazakhstan-osce-republic-of-kazakhstan-early-parliamentary-elections.html"
)
K8 = "https://www.osce.org/odihr/248786"
K9 = "https://docslib.org/doc/419681/observation-of-the-early-parliamentary-elections-in-kazakhstan-20-march-2016"
K10 = "https://en.inform.kz/amp/cis-observers-mission-to-embrace-all-regions-astana-and-almaty-y-sloboda_a2875284/"
K11 = "https://en.inform.kz/news/301-cis-observers-to-monitor-parliamentary-elections-in-kazakhstan_a2881968/"
K12 = (
    "https://iacis.ru/News/IIMDD_IPA_CIS/"
    "ipa_cis_observers_published_the_findings_after_the_parliamentary_elections_in_kazakhstan"
)
K13 = (
    "https://iacis.ru/News/IIMDD_IPA_CIS/"
    "appointment_of_the_coordinator_of_the_ipa_cis_observer_team_at_the_elections_to_the_majilis_of_the_p"
)
K15 = "https://azerbaijannewsgazette.com/pre-election-process-in-kazakhstan-transparent-cis-observers/"
K20 = (
    "https://www.euractiv.com/section/central-asia/news/"
    "international-observers-to-monitor-kazakhstan-election-despite-covid-challenge/"
)
K21 = (
    "https://astanatimes.com/2021/01/"
    "kazakhstan-registers-398-foreign-observers-for-upcoming-parliamentary-elections-accreditation-wraps-up"
    "kazakhstan-registers-398-foreign-observers-for-upcoming-parliamentary-elections-accreditation-wra/"
)
K22 = "https://en.trend.az/casia/kazakhstan/3346583.html"
K23 = "https://docslib.org/doc/3131732/republic-of-kazakhstan"
K24 = (
    "https://docslib.org/doc/10579141/"
    "osce-office-for-democratic-institutions-and-human-rights-limited-election-observation-mission-"
    "republic-of-kazakhstan-parliamentary-elections-10-january-2021"
)
K25 = (
    "https://www.oscepa.org/ru/novosti-i-multimedia/press-relizy/press-2021/"
    "lack-of-real-competition-and-limitations-to-fundamental-freedoms-left-voters-without-genuine-choice-"
    "in-kazakhstan-s-parliamentary-elections-international-observers-say"
)
K26 = (
    "https://oscepa.org/en/news-a-media/press-releases/press-2021/"
    "osce-pa-to-deploy-observers-for-the-10-january-parliamentary-elections-in-kazakhstan"
)
K27 = (
    "https://www.washingtonpost.com/politics/kazakhstans-ruling-party-cements-its-grip-on-parliament/"
    "2021/01/11/c621b1e4-53f5-11eb-acc5-92d2819a1ccb_story.html"
)
K28 = "https://docslib.org/doc/799412/english-version-of-this-report-is-the-only-official-document"
K29 = "Mirror copy of the ODIHR final-report press release (lower reliability; no address recorded)"
K30 = "https://en.trend.az/casia/kazakhstan/3361009.html"
K31 = "http://www.today.az/news/regions/202392.html"
K32 = "http://eng.sectsco.org/news/20210111/710499.html"
K33 = "https://tass.com/world/1243281"
K34 = "Mirror copy of the Turkic Council statement (lower reliability; no address recorded)"
K35 = (
    "https://en.inform.kz/amp/"
    "cec-accredits-24-long-term-osce-odihr-observers-for-parliamentary-elections-in-kazakhstan_a3728797/"
)
K37 = (
    "https://ru.sputnik.kz/20210112/"
    "spiker-gosdumy-rossii-pozdravil-nigmatulina-s-uspeshno-provedennymi-vyborami-v-mazhilis-16010233.html"
)

ORG = Organisation.Kind
MISSION = Mission.Type
DOC = Document.Kind
PROV = Document.Provenance
STANCE = Excerpt.Stance
FIDELITY = Excerpt.Fidelity

E2016 = "kz-2016-03-20-parliamentary"
E2021 = "kz-2021-01-10-parliamentary"

# Parents come before their children.
ORGANISATIONS = [
    {
        "slug": "osce",
        "name": "Organization for Security and Co-operation in Europe",
        "acronym": "OSCE",
        "kind": ORG.INTERGOVERNMENTAL,
        "website": "https://www.osce.org",
    },
    {
        "slug": "odihr",
        "name": "OSCE Office for Democratic Institutions and Human Rights",
        "acronym": "ODIHR",
        "kind": ORG.INTERGOVERNMENTAL,
        "parent": "osce",
        "website": "https://www.osce.org/odihr",
        "endorsed_declaration": True,
    },
    {
        "slug": "osce-pa",
        "name": "OSCE Parliamentary Assembly",
        "acronym": "OSCE PA",
        "kind": ORG.PARLIAMENTARY_ASSEMBLY,
        "parent": "osce",
        "website": "https://www.oscepa.org",
        "endorsed_declaration": True,
    },
    {"slug": "council-of-europe", "name": "Council of Europe", "kind": ORG.INTERGOVERNMENTAL},
    {
        "slug": "pace",
        "name": "Parliamentary Assembly of the Council of Europe",
        "acronym": "PACE",
        "kind": ORG.PARLIAMENTARY_ASSEMBLY,
        "parent": "council-of-europe",
        "endorsed_declaration": True,
    },
    {
        "slug": "cis",
        "name": "Commonwealth of Independent States",
        "acronym": "CIS",
        "kind": ORG.INTERGOVERNMENTAL,
    },
    {
        "slug": "cis-executive-committee",
        "name": "CIS Executive Committee",
        "kind": ORG.INTERGOVERNMENTAL,
        "parent": "cis",
    },
    {
        "slug": "cis-ipa",
        "name": "Interparliamentary Assembly of Member Nations of the Commonwealth of Independent States",
        "acronym": "CIS IPA",
        "kind": ORG.PARLIAMENTARY_ASSEMBLY,
        "parent": "cis",
        "website": "https://iacis.ru",
    },
    {
        "slug": "iimdp",
        "name": "International Institute for Monitoring Democracy, Parliamentarism and Suffrage Protection",
        "acronym": "IIMDP",
        "kind": ORG.INTERGOVERNMENTAL,
        "parent": "cis-ipa",
        "description": (
            "The CIS IPA's institute for monitoring elections. The Foreign Minister of Kazakhstan's comment of "
            "21 March 2016 calls it the International Institute for Monitoring of democracy, parliamentarianism "
            "and observance of electoral rights of CIS IPA."
        ),
    },
    {
        "slug": "sco",
        "name": "Shanghai Cooperation Organisation",
        "acronym": "SCO",
        "kind": ORG.INTERGOVERNMENTAL,
        "website": "http://eng.sectsco.org",
    },
    {
        "slug": "oic",
        "name": "Organisation of Islamic Cooperation",
        "acronym": "OIC",
        "kind": ORG.INTERGOVERNMENTAL,
    },
    {
        "slug": "csto",
        "name": "Collective Security Treaty Organization",
        "acronym": "CSTO",
        "kind": ORG.INTERGOVERNMENTAL,
    },
    {
        "slug": "csto-pa",
        "name": "Parliamentary Assembly of the Collective Security Treaty Organization",
        "acronym": "CSTO PA",
        "kind": ORG.PARLIAMENTARY_ASSEMBLY,
        "parent": "csto",
    },
    {
        "slug": "ccts",
        "name": "Cooperation Council of Turkic-speaking States",
        "acronym": "CCTS",
        "kind": ORG.INTERGOVERNMENTAL,
        "description": "Also called the Turkic Council.",
    },
    {
        "slug": "turkpa",
        "name": "Parliamentary Assembly of Turkic-speaking Countries",
        "acronym": "TurkPA",
        "kind": ORG.PARLIAMENTARY_ASSEMBLY,
        "description": (
            "The Foreign Minister of Kazakhstan's comment of 21 March 2016 calls it the Parliamentary Assembly "
            "of the Turkic Council."
        ),
    },
    {"slug": "eu", "name": "European Union", "acronym": "EU", "kind": ORG.INTERGOVERNMENTAL},
    {
        "slug": "european-commission",
        "name": "European Commission",
        "kind": ORG.INTERGOVERNMENTAL,
        "parent": "eu",
        "endorsed_declaration": True,
    },
    {
        "slug": "european-parliament",
        "name": "European Parliament",
        "kind": ORG.PARLIAMENTARY_ASSEMBLY,
        "parent": "eu",
        "endorsed_declaration": True,
    },
    {
        "slug": "eu-delegation-kazakhstan",
        "name": "Delegation of the European Union to Kazakhstan",
        "acronym": "EU Delegation",
        "kind": ORG.INTERGOVERNMENTAL,
        "parent": "eu",
    },
    {
        "slug": "carter-center",
        "name": "The Carter Center",
        "kind": ORG.INTERNATIONAL_NGO,
        "endorsed_declaration": True,
    },
    {
        "slug": "ndi",
        "name": "National Democratic Institute",
        "acronym": "NDI",
        "kind": ORG.INTERNATIONAL_NGO,
        "endorsed_declaration": True,
    },
    {
        "slug": "iri",
        "name": "International Republican Institute",
        "acronym": "IRI",
        "kind": ORG.INTERNATIONAL_NGO,
        "endorsed_declaration": True,
    },
    {
        "slug": "cec-kazakhstan",
        "name": "Central Election Commission of Kazakhstan",
        "acronym": "CEC",
        "kind": ORG.ELECTION_COMMISSION,
        "country": "KZ",
    },
    {
        "slug": "state-duma",
        "name": "State Duma of the Russian Federation",
        "acronym": "State Duma",
        "kind": ORG.GOVERNMENT,
        "country": "RU",
    },
    {
        "slug": "kazinform",
        "name": "Kazinform",
        "kind": ORG.NEWS,
        "country": "KZ",
        "website": "https://en.inform.kz",
    },
    {
        "slug": "astana-times",
        "name": "The Astana Times",
        "kind": ORG.NEWS,
        "country": "KZ",
        "website": "https://astanatimes.com",
    },
    {"slug": "euractiv", "name": "Euractiv", "kind": ORG.NEWS, "website": "https://www.euractiv.com"},
    {
        "slug": "trend",
        "name": "Trend",
        "kind": ORG.NEWS,
        "country": "AZ",
        "website": "https://en.trend.az",
    },
    {
        "slug": "washington-post",
        "name": "The Washington Post",
        "kind": ORG.NEWS,
        "country": "US",
        "website": "https://www.washingtonpost.com",
    },
    {
        "slug": "sputnik-kazakhstan",
        "name": "Sputnik Kazakhstan",
        "kind": ORG.NEWS,
        "country": "KZ",
        "website": "https://ru.sputnik.kz",
    },
]

ELECTIONS = [
    {
        "slug": E2016,
        "country": "KZ",
        "kind": Election.Kind.PARLIAMENTARY,
        "chamber": "Mazhilis",
        "election_date": datetime.date(2016, 3, 20),
        "round": 1,
        "is_early": True,
        "notes": "Early elections to the Mazhilis, the lower house of Parliament.",
    },
    {
        "slug": E2021,
        "country": "KZ",
        "kind": Election.Kind.PARLIAMENTARY,
        "chamber": "Mazhilis",
        "election_date": datetime.date(2021, 1, 10),
        "round": 1,
        "is_early": False,
        "notes": (
            "On 4 January 2021 the Central Election Commission had accredited 322 observers from 10 international "
            "organisations, plus 76 observers from 31 states: 398 in total.\n"
            f"Sources: {K20} ; {K21}"
        ),
    },
]

IEOM_2016 = "Part of the International Election Observation Mission (IEOM) of ODIHR, the OSCE PA and PACE."
CEC_2021 = "Accredited observers as listed by the Central Election Commission on 4 January 2021."
STATEMENT_NOT_FOUND = "Its statement on the elections was not found."

# Keyed for use below; looked up by (organisation, election, mission type).
MISSIONS = {
    "odihr-2016": {
        "organisation": "odihr",
        "election": E2016,
        "mission_type": MISSION.EOM,
        "partners": ["osce-pa", "pace"],
        "head": "Boris Frlec",
        "core_team": 15,
        "long_term_observers": 28,
        "deployed_from": datetime.date(2016, 2, 17),
        "notes": (
            f"{IEOM_2016} 15 international experts in Astana and 28 long-term observers from 23 February 2016; "
            "400 short-term observers were requested. The overall conclusion of the IEOM's Statement of "
            "Preliminary Findings and Conclusions of 21 March 2016 was not found; the verdict rests on the "
            "press release on ODIHR's final report."
        ),
        "sources": [K5, K4, K8],
    },
    "osce-pa-2016": {
        "organisation": "osce-pa",
        "election": E2016,
        "mission_type": MISSION.PARLIAMENTARY_DELEGATION,
        "partners": ["odihr", "pace"],
        "head": "Geir Jørgen Bekkevold",
        "notes": (
            f"{IEOM_2016} Special Co-ordinator: Marietta Tidei (Italy). "
            "Head of the OSCE PA delegation: Geir Jørgen Bekkevold (Norway)."
        ),
        "sources": [K4],
    },
    "pace-2016": {
        "organisation": "pace",
        "election": E2016,
        "mission_type": MISSION.PARLIAMENTARY_DELEGATION,
        "partners": ["odihr", "osce-pa"],
        "head": "Jordi Xuclà",
        "notes": f"{IEOM_2016} Head of the PACE delegation: Jordi Xuclà (Spain).",
        "sources": [K4, K9],
    },
    "cis-2016": {
        "organisation": "cis",
        "election": E2016,
        "mission_type": MISSION.EOM,
        "head": "Yevgeny Sloboda",
        "accredited_observers": 301,
        "notes": (
            "The 301 accredited observers came from Azerbaijan, Armenia, Belarus, Kyrgyzstan, Moldova, Russia, "
            "Tajikistan, Turkmenistan, Uzbekistan, the CIS IPA, the Belarus–Russia Union State PA, the CSTO PA "
            "and the CIS Executive Committee. The head of mission gave a briefing on 26 February 2016, and an "
            "interim report covered 26 February – 11 March 2016: recorded as an election observation mission "
            "because it observed over several weeks as well as on election day. The mission's final statement "
            "was not found; only the Foreign Minister's characterisation of it is recorded."
        ),
        "sources": [K10, K11, K15],
    },
    "cis-ipa-2016": {
        "organisation": "cis-ipa",
        "election": E2016,
        "mission_type": MISSION.PARLIAMENTARY_DELEGATION,
        "head": "Valekh Aleskerov (coordinator)",
        "notes": (
            "An observer team of 42 observers, coordinated by Valekh Aleskerov (Azerbaijan). The sources do not "
            "say how many were long-term, short-term or accredited, so the number is given here."
        ),
        "sources": [K12, K13],
    },
    "odihr-nam-2021": {
        "organisation": "odihr",
        "election": E2021,
        "mission_type": MISSION.NEEDS_ASSESSMENT,
        "deployed_from": datetime.date(2020, 10, 27),
        "deployed_to": datetime.date(2020, 10, 29),
        "notes": "The needs-assessment report is dated 18 November 2020.",
        "sources": [K23],
    },
    "odihr-2021": {
        "organisation": "odihr",
        "election": E2021,
        "mission_type": MISSION.LIMITED_EOM,
        "partners": ["osce-pa"],
        "head": "Jarosław Domański",
        "core_team": 11,
        "long_term_observers": 24,
        "accredited_observers": 42,
        "deployed_from": datetime.date(2020, 12, 8),
        "notes": (
            "A limited election observation mission: no systematic observation of voting, counting or "
            "tabulation. Core team of 11 experts in Nur-Sultan; 24 long-term observers from 15 December 2020; "
            f"the mission opened on 8 December 2020. {CEC_2021}"
        ),
        "sources": [K22, K35, K20, K21, K25, K28],
    },
    "osce-pa-2021": {
        "organisation": "osce-pa",
        "election": E2021,
        "mission_type": MISSION.PARLIAMENTARY_DELEGATION,
        "partners": ["odihr"],
        "head": "Kristian Vigenin (Special Co-ordinator)",
        "accredited_observers": 9,
        "notes": (
            "Special Co-ordinator: Kristian Vigenin (Bulgaria). The OSCE PA announced “seven parliamentarians "
            f"and staff from five countries”. {CEC_2021}"
        ),
        "sources": [K26, K20, K21],
    },
    "cis-2021": {
        "organisation": "cis",
        "election": E2021,
        "mission_type": MISSION.EOM,
        "accredited_observers": 234,
        "notes": (
            "The Central Election Commission's list of 4 January 2021 gives 179 observers for the CIS Executive "
            "Committee. The mission's statement is known from a press rendering by Trend. Recorded as an "
            "election observation mission, as the CIS mission of 2016."
        ),
        "sources": [K30, K31, K20, K21],
    },
    "cis-ipa-2021": {
        "organisation": "cis-ipa",
        "election": E2021,
        "mission_type": MISSION.PARLIAMENTARY_DELEGATION,
        "accredited_observers": 48,
        "notes": CEC_2021,
        "sources": [K20, K21],
    },
    "sco-2021": {
        "organisation": "sco",
        "election": E2021,
        "mission_type": MISSION.OTHER,
        "head": "Zhang Haizhou",
        "accredited_observers": 15,
        "deployed_from": datetime.date(2021, 1, 7),
        "deployed_to": datetime.date(2021, 1, 10),
        "notes": (
            "Headed by Deputy Secretary-General Zhang Haizhou; 15 observers. Recorded as other observation: a "
            "four-day mission, not a full election observation mission."
        ),
        "sources": [K32, K20, K21],
    },
    "csto-pa-2021": {
        "organisation": "csto-pa",
        "election": E2021,
        "mission_type": MISSION.PARLIAMENTARY_DELEGATION,
        "head": "Umakhan Umakhanov",
        "accredited_observers": 7,
        "notes": f"The head's words are known from TASS's report. {CEC_2021}",
        "sources": [K33, K20, K21],
    },
    "ccts-2021": {
        "organisation": "ccts",
        "election": E2021,
        "mission_type": MISSION.OTHER,
        "head": "Ömer Kocaman",
        "accredited_observers": 7,
        "notes": (
            "Headed by Deputy Secretary-General Ömer Kocaman. Its statement of 11 January 2021 is known from a "
            f"mirror copy of lower reliability. {CEC_2021}"
        ),
        "sources": [K34, K20, K21],
    },
    "turkpa-2021": {
        "organisation": "turkpa",
        "election": E2021,
        "mission_type": MISSION.PARLIAMENTARY_DELEGATION,
        "accredited_observers": 9,
        "notes": f"{STATEMENT_NOT_FOUND} {CEC_2021}",
        "sources": [K20, K21],
    },
    "oic-2021": {
        "organisation": "oic",
        "election": E2021,
        "mission_type": MISSION.OTHER,
        "accredited_observers": 4,
        "notes": f"{STATEMENT_NOT_FOUND} {CEC_2021}",
        "sources": [K20, K21],
    },
    "eu-delegation-2021": {
        "organisation": "eu-delegation-kazakhstan",
        "election": E2021,
        "mission_type": MISSION.OTHER,
        "accredited_observers": 2,
        "notes": f"{STATEMENT_NOT_FOUND} {CEC_2021}",
        "sources": [K20, K21],
    },
    "state-duma-2021": {
        "organisation": "state-duma",
        "election": E2021,
        "mission_type": MISSION.OTHER,
        "notes": (
            "Known only from the Speaker of the State Duma, Volodin, who cited Duma observers (Sputnik "
            "Kazakhstan, 12 January 2021). The State Duma is not among the ten organisations on the Central "
            "Election Commission's list of 4 January 2021; how its observers were accredited, and how many "
            "there were, is not recorded. Their own statement was not found."
        ),
        "sources": [K37],
    },
}

MIRROR_NO_URL = "A mirror copy of lower reliability; no address is recorded."
ALL_ACCREDITED_2021 = [
    "odihr-2021",
    "osce-pa-2021",
    "cis-2021",
    "cis-ipa-2021",
    "sco-2021",
    "csto-pa-2021",
    "ccts-2021",
    "turkpa-2021",
    "oic-2021",
    "eu-delegation-2021",
]

# Looked up by URL, or by (title, publisher) when there is none.
DOCUMENTS = {
    "op-ed-kazinform": {
        "title": "Election observers play important part in helping in our progress – FM Idrissov",
        "kind": DOC.OP_ED,
        "publisher": "kazinform",
        "author": "Erlan Idrissov",
        "date": datetime.date(2016, 3, 21),
        "url": K1,
        "election": E2016,
        "missions": ["odihr-2016", "cis-2016", "cis-ipa-2016"],
        "notes": (
            "The first publication of the Foreign Minister's comment. The excerpts are recorded from The Astana "
            "Times reprint, whose wording they follow."
        ),
    },
    "op-ed": {
        "title": "Comment by Foreign Minister Erlan Idrissov on the observers' assessments (reprint)",
        "kind": DOC.OP_ED,
        "publisher": "astana-times",
        "author": "Erlan Idrissov",
        "date": datetime.date(2016, 3, 21),
        "url": K2,
        "provenance": PROV.OFFICIAL_REPRINT,
        "election": E2016,
        "missions": ["odihr-2016", "cis-2016", "cis-ipa-2016"],
        "notes": "A reprint of the comment first published by Kazinform. The title is descriptive.",
    },
    "sopfc-2016": {
        "title": (
            "Statement of Preliminary Findings and Conclusions: International Election Observation Mission, "
            "Kazakhstan, early parliamentary elections, 20 March 2016"
        ),
        "kind": DOC.PRELIMINARY,
        "publisher": "odihr",
        "date": datetime.date(2016, 3, 21),
        "url": K4,
        "provenance": PROV.MIRROR,
        "election": E2016,
        "missions": ["odihr-2016", "osce-pa-2016", "pace-2016"],
        "notes": (
            "Issued in Astana by the International Election Observation Mission (ODIHR, OSCE PA, PACE). A copy "
            "on docslib.org. Its overall conclusion was not found for this record."
        ),
    },
    "odihr-page-2016": {
        "title": "ODIHR Election Observation Mission: Kazakhstan, early parliamentary elections, 20 March 2016",
        "kind": DOC.OTHER,
        "publisher": "odihr",
        "url": K5,
        "election": E2016,
        "missions": ["odihr-2016"],
        "notes": "ODIHR's page on the mission. The title is descriptive.",
    },
    "interim-2016": {
        "title": (
            "Interim report, 17 February – 6 March 2016: ODIHR Election Observation Mission, Kazakhstan, "
            "early parliamentary elections"
        ),
        "kind": DOC.INTERIM,
        "publisher": "odihr",
        "date": datetime.date(2016, 3, 11),
        "url": K6,
        "provenance": PROV.MIRROR,
        "election": E2016,
        "missions": ["odihr-2016"],
        "notes": "A copy on docslib.org.",
    },
    "final-2016": {
        "title": "Final report: ODIHR Election Observation Mission, Kazakhstan, early parliamentary elections, 2016",
        "kind": DOC.FINAL,
        "publisher": "odihr",
        "date": datetime.date(2016, 6, 27),
        "url": K7,
        "provenance": PROV.MIRROR,
        "election": E2016,
        "missions": ["odihr-2016"],
        "notes": "Issued in Warsaw. A copy on fdocuments.in.",
    },
    "final-press-release-2016": {
        "title": "Press release on ODIHR's final report: Kazakhstan, early parliamentary elections, 2016",
        "kind": DOC.PRESS_RELEASE,
        "publisher": "odihr",
        "url": K8,
        "election": E2016,
        "missions": ["odihr-2016"],
        "notes": "The title is descriptive.",
    },
    "pace-report-2016": {
        "title": "Observation of the early parliamentary elections in Kazakhstan (20 March 2016), Doc. 14061",
        "kind": DOC.FINAL,
        "publisher": "pace",
        "date": datetime.date(2016, 5, 12),
        "url": K9,
        "provenance": PROV.MIRROR,
        "election": E2016,
        "missions": ["pace-2016"],
        "notes": "PACE document 14061. A copy on docslib.org.",
    },
    "kazinform-sloboda-2016": {
        "title": "CIS observers mission to embrace all regions, Astana and Almaty – Y. Sloboda",
        "kind": DOC.NEWS,
        "publisher": "kazinform",
        "url": K10,
        "election": E2016,
        "missions": ["cis-2016"],
        "notes": "Reports the briefing of 26 February 2016 by the head of the CIS mission, Yevgeny Sloboda.",
    },
    "kazinform-301-2016": {
        "title": "301 CIS observers to monitor parliamentary elections in Kazakhstan",
        "kind": DOC.NEWS,
        "publisher": "kazinform",
        "url": K11,
        "election": E2016,
        "missions": ["cis-2016"],
    },
    "cis-ipa-findings-2016": {
        "title": "IPA CIS observers published the findings after the parliamentary elections in Kazakhstan",
        "kind": DOC.PRESS_RELEASE,
        "publisher": "cis-ipa",
        "url": K12,
        "election": E2016,
        "missions": ["cis-ipa-2016"],
    },
    "cis-ipa-coordinator-2016": {
        "title": "Appointment of the coordinator of the IPA CIS observer team at the elections to the Majilis",
        "kind": DOC.PRESS_RELEASE,
        "publisher": "cis-ipa",
        "url": K13,
        "election": E2016,
        "missions": ["cis-ipa-2016"],
    },
    "cis-interim-2016": {
        "title": "Pre-election process in Kazakhstan transparent – CIS observers",
        "kind": DOC.INTERIM,
        "publisher": "cis",
        "url": K15,
        "provenance": PROV.NEWS_RENDERING,
        "election": E2016,
        "missions": ["cis-2016"],
        "notes": (
            "A press rendering (azerbaijannewsgazette.com) of the CIS mission's interim report covering "
            "26 February – 11 March 2016, which called the pre-election process transparent. Lower reliability."
        ),
    },
    "euractiv-2021": {
        "title": "International observers to monitor Kazakhstan election despite COVID challenge",
        "kind": DOC.NEWS,
        "publisher": "euractiv",
        "url": K20,
        "election": E2021,
        "missions": ALL_ACCREDITED_2021,
        "notes": "Reports the Central Election Commission's accreditation figures of 4 January 2021.",
    },
    "astana-times-2021": {
        "title": (
            "Kazakhstan registers 398 foreign observers for upcoming parliamentary elections, accreditation wraps up"
        ),
        "kind": DOC.NEWS,
        "publisher": "astana-times",
        "url": K21,
        "election": E2021,
        "missions": ALL_ACCREDITED_2021,
        "notes": "Reports the Central Election Commission's accreditation figures of 4 January 2021.",
    },
    "trend-odihr-2021": {
        "title": "Trend report on the ODIHR limited election observation mission to Kazakhstan",
        "kind": DOC.NEWS,
        "publisher": "trend",
        "url": K22,
        "election": E2021,
        "missions": ["odihr-2021"],
        "notes": "The title is descriptive.",
    },
    "needs-assessment-2021": {
        "title": "Needs-assessment mission report: Kazakhstan, parliamentary elections, 10 January 2021",
        "kind": DOC.NEEDS_ASSESSMENT,
        "publisher": "odihr",
        "date": datetime.date(2020, 11, 18),
        "url": K23,
        "provenance": PROV.MIRROR,
        "election": E2021,
        "missions": ["odihr-nam-2021"],
        "notes": "On the needs-assessment mission of 27–29 October 2020. A copy on docslib.org.",
    },
    "interim-2021": {
        "title": (
            "Interim report, 8–20 December 2020: ODIHR Limited Election Observation Mission, Kazakhstan, "
            "parliamentary elections, 10 January 2021"
        ),
        "kind": DOC.INTERIM,
        "publisher": "odihr",
        "date": datetime.date(2020, 12, 23),
        "url": K24,
        "provenance": PROV.MIRROR,
        "election": E2021,
        "missions": ["odihr-2021"],
        "notes": "A copy on docslib.org.",
    },
    "sopfc-2021": {
        "title": (
            "Lack of real competition and limitations to fundamental freedoms left voters without genuine choice "
            "in Kazakhstan's parliamentary elections, international observers say"
        ),
        "kind": DOC.PRESS_RELEASE,
        "publisher": "osce-pa",
        "date": datetime.date(2021, 1, 11),
        "url": K25,
        "election": E2021,
        "missions": ["odihr-2021", "osce-pa-2021"],
        "notes": (
            "On the international observers' Statement of Preliminary Findings and Conclusions of 11 January 2021."
        ),
    },
    "osce-pa-deploy-2021": {
        "title": "OSCE PA to deploy observers for the 10 January parliamentary elections in Kazakhstan",
        "kind": DOC.PRESS_RELEASE,
        "publisher": "osce-pa",
        "url": K26,
        "election": E2021,
        "missions": ["osce-pa-2021"],
    },
    "washington-post-2021": {
        "title": "Kazakhstan's ruling party cements its grip on parliament",
        "kind": DOC.NEWS,
        "publisher": "washington-post",
        "date": datetime.date(2021, 1, 11),
        "url": K27,
        "election": E2021,
        "missions": ["odihr-2021"],
        "notes": "Quotes the international observers' statement of 11 January 2021.",
    },
    "final-2021": {
        "title": (
            "Final report: ODIHR Limited Election Observation Mission, Kazakhstan, parliamentary elections, "
            "10 January 2021"
        ),
        "kind": DOC.FINAL,
        "publisher": "odihr",
        "date": datetime.date(2021, 3, 26),
        "url": K28,
        "provenance": PROV.MIRROR,
        "election": E2021,
        "missions": ["odihr-2021"],
        "notes": "Issued in Warsaw, with 25 recommendations. A copy on docslib.org.",
    },
    "final-press-release-2021": {
        "title": "Press release on ODIHR's final report: Kazakhstan, parliamentary elections, 10 January 2021",
        "kind": DOC.PRESS_RELEASE,
        "publisher": "odihr",
        "provenance": PROV.MIRROR,
        "election": E2021,
        "missions": ["odihr-2021"],
        "notes": f"{MIRROR_NO_URL} The title is descriptive.",
    },
    "trend-cis-2021": {
        "title": "Trend report on the CIS observer mission in Kazakhstan",
        "kind": DOC.NEWS,
        "publisher": "trend",
        "url": K30,
        "election": E2021,
        "missions": ["cis-2021"],
        "notes": "The title is descriptive.",
    },
    "cis-statement-2021": {
        "title": "Statement of the CIS observers on the parliamentary elections in Kazakhstan (press rendering)",
        "kind": DOC.NEWS,
        "publisher": "cis",
        "url": K31,
        "provenance": PROV.NEWS_RENDERING,
        "election": E2021,
        "missions": ["cis-2021"],
        "notes": "The CIS mission's statement as rendered by Trend, here on today.az. Lower reliability.",
    },
    "sco-2021": {
        "title": "SCO observer mission at the parliamentary elections in Kazakhstan",
        "kind": DOC.PRESS_RELEASE,
        "publisher": "sco",
        "date": datetime.date(2021, 1, 11),
        "url": K32,
        "election": E2021,
        "missions": ["sco-2021"],
        "notes": "SCO news. The title is descriptive.",
    },
    "tass-csto-pa-2021": {
        "title": "The head of the CSTO PA observers on the parliamentary elections in Kazakhstan (TASS)",
        "kind": DOC.NEWS,
        "publisher": "csto-pa",
        "url": K33,
        "provenance": PROV.NEWS_RENDERING,
        "election": E2021,
        "missions": ["csto-pa-2021"],
        "notes": "Umakhan Umakhanov's words as reported by TASS. The title is descriptive.",
    },
    "ccts-statement-2021": {
        "title": "Statement of the Turkic Council observers on the parliamentary elections in Kazakhstan",
        "kind": DOC.OTHER,
        "publisher": "ccts",
        "date": datetime.date(2021, 1, 11),
        "provenance": PROV.MIRROR,
        "election": E2021,
        "missions": ["ccts-2021"],
        "notes": f"{MIRROR_NO_URL} The title is descriptive.",
    },
    "kazinform-ltos-2021": {
        "title": "CEC accredits 24 long-term OSCE/ODIHR observers for parliamentary elections in Kazakhstan",
        "kind": DOC.NEWS,
        "publisher": "kazinform",
        "url": K35,
        "election": E2021,
        "missions": ["odihr-2021"],
    },
    "sputnik-2021": {
        "title": "State Duma Speaker congratulates Nigmatulin on successfully held Mazhilis elections",
        "kind": DOC.NEWS,
        "publisher": "sputnik-kazakhstan",
        "date": datetime.date(2021, 1, 12),
        "language": "ru",
        "url": K37,
        "election": E2021,
        "missions": ["state-duma-2021"],
        "notes": (
            "In Russian; the title is translated from the address. Reports State Duma Speaker Volodin, citing "
            "Duma observers, as saying the vote was “open and competitive”: that English wording is the one "
            "the facts sheet records."
        ),
    },
}

NOT_FOUND_NOTE = "The mission's own words that this reports were not found, so it has not been checked."

# Looked up by (document, text). A "fidelity" marks a characterisation: a third party's text.
EXCERPTS = {
    "odihr-2016-way-to-go": {
        "document": "final-press-release-2016",
        "mission": "odihr-2016",
        "text": (
            "Kazakhstan still has a considerable way to go in meeting its OSCE commitments for democratic elections"
        ),
        "stance": STANCE.CRITICAL,
        "is_headline": True,
    },
    "odihr-2016-irregularities": {
        "document": "final-press-release-2016",
        "mission": "odihr-2016",
        "text": "serious procedural errors and irregularities were observed during voting, counting and tabulation",
        "stance": STANCE.CRITICAL,
        "topics": ["voting", "counting-and-tabulation"],
    },
    "op-ed-well-organised": {
        "document": "op-ed",
        "mission": "odihr-2016",
        "text": "The OSCE was clear that the election was well organised and professional.",
        "stance": STANCE.POSITIVE,
        "topics": ["election-administration"],
        "fidelity": FIDELITY.SELECTIVE,
        "fidelity_note": (
            "Reports praise and leaves out the mission's conclusions on the same election: ODIHR's final-report "
            "press release says Kazakhstan “still has a considerable way to go in meeting its OSCE commitments "
            "for democratic elections” and that “serious procedural errors and irregularities were observed "
            "during voting, counting and tabulation”. The words “well organised and professional” were not "
            "found in the mission's texts recorded here."
        ),
        "primary": ["odihr-2016-way-to-go", "odihr-2016-irregularities"],
    },
    "op-ed-cec-technical-work": {
        "document": "op-ed",
        "mission": "odihr-2016",
        "text": (
            "They gave a positive view of the technical work of the Central Election Committee (CEC) in "
            "registering voters and candidates."
        ),
        "stance": STANCE.POSITIVE,
        "topics": ["election-administration", "voter-registration", "candidate-registration"],
        "fidelity": FIDELITY.NOT_CHECKED,
        "fidelity_note": NOT_FOUND_NOTE,
    },
    "op-ed-cec-open-sessions": {
        "document": "op-ed",
        "mission": "odihr-2016",
        "text": (
            "It noted that the CEC has held regular open sessions on preparations for political parties, "
            "citizen and international observers and the media."
        ),
        "stance": STANCE.POSITIVE,
        "topics": ["election-administration", "observer-access"],
        "fidelity": FIDELITY.NOT_CHECKED,
        "fidelity_note": NOT_FOUND_NOTE,
    },
    "op-ed-freedom-of-expression": {
        "document": "op-ed",
        "mission": "odihr-2016",
        "text": (
            "Our Constitution guarantees freedom of expression and prohibits censorship, which was reflected in "
            "the OSCE’s assessment."
        ),
        "stance": STANCE.POSITIVE,
        "topics": ["fundamental-freedoms", "media"],
        "fidelity": FIDELITY.NOT_CHECKED,
        "fidelity_note": NOT_FOUND_NOTE,
    },
    "op-ed-cis": {
        "document": "op-ed",
        "mission": "cis-2016",
        "text": (
            "Observers from the CIS acknowledged that the election was held freely, with a high turnout and in "
            "full accordance with the Constitution of Kazakhstan."
        ),
        "stance": STANCE.POSITIVE,
        "topics": ["turnout", "voting"],
        "fidelity": FIDELITY.NOT_CHECKED,
        "fidelity_note": (
            "The CIS mission's final statement was not found, so this has not been checked against its own words."
        ),
    },
    "op-ed-iimdp": {
        "document": "op-ed",
        "mission": "cis-ipa-2016",
        "text": (
            "Furthermore, experts of the mission and the International Institute for Monitoring of democracy, "
            "parliamentarianism and observance of electoral rights of CIS IPA concluded that the electoral "
            "legislation of Kazakhstan complies with the universally recognised norms of international law."
        ),
        "stance": STANCE.POSITIVE,
        "topics": ["legal-framework"],
        "fidelity": FIDELITY.NOT_CHECKED,
        "fidelity_note": NOT_FOUND_NOTE,
    },
    "odihr-2021-no-genuine-choice": {
        "document": "sopfc-2021",
        "mission": "odihr-2021",
        "text": (
            "an uncompetitive campaign and systemic de facto limitations on constitutionally guaranteed "
            "fundamental freedoms left voters without genuine choice"
        ),
        "stance": STANCE.CRITICAL,
        "topics": ["campaign", "fundamental-freedoms"],
        "is_headline": True,
    },
    "washington-post-not-competitive": {
        "document": "washington-post-2021",
        "mission": "odihr-2021",
        "text": (
            "As all political parties contesting the elections supported the policies of the ruling party, the "
            "campaign was not competitive, and voters had no genuine political alternatives to choose from"
        ),
        "stance": STANCE.CRITICAL,
        "topics": ["campaign"],
        "fidelity": FIDELITY.ACCURATE,
        "fidelity_note": (
            "Quoted as the words of the international observers' statement of 11 January 2021; it agrees with "
            "the statement's conclusion that an uncompetitive campaign left voters without genuine choice."
        ),
        "primary": ["odihr-2021-no-genuine-choice"],
    },
    "odihr-2021-efficiently-prepared": {
        "document": "final-press-release-2021",
        "mission": "odihr-2021",
        "text": "efficiently prepared",
        "stance": STANCE.POSITIVE,
        "topics": ["election-administration"],
    },
    "odihr-2021-lacked-competition": {
        "document": "final-press-release-2021",
        "mission": "odihr-2021",
        "text": "lacked genuine competition",
        "stance": STANCE.CRITICAL,
        "topics": ["campaign"],
    },
    "osce-pa-2021-delegation": {
        "document": "osce-pa-deploy-2021",
        "mission": "osce-pa-2021",
        "text": "seven parliamentarians and staff from five countries",
        "stance": STANCE.NEUTRAL,
    },
    "cis-2021-transparent": {
        "document": "cis-statement-2021",
        "mission": "cis-2021",
        "text": "transparent, fair, competitive",
        "stance": STANCE.POSITIVE,
        "is_headline": True,
    },
    "csto-pa-2021-no-violations": {
        "document": "tass-csto-pa-2021",
        "mission": "csto-pa-2021",
        "text": "At those polling stations that we visited no violations were recorded.",
        "stance": STANCE.POSITIVE,
        "topics": ["voting"],
        "is_headline": True,
    },
    "ccts-2021-compliance": {
        "document": "ccts-statement-2021",
        "mission": "ccts-2021",
        "text": "in compliance with the national legislation and international standards",
        "stance": STANCE.POSITIVE,
        "is_headline": True,
    },
    "volodin-open-and-competitive": {
        "document": "sputnik-2021",
        "mission": "state-duma-2021",
        "text": "open and competitive",
        "stance": STANCE.POSITIVE,
        "fidelity": FIDELITY.NOT_CHECKED,
        "fidelity_note": (
            "The source is in Russian; this English wording is the one the facts sheet records. The Duma "
            "observers' own words were not found, so it has not been checked."
        ),
    },
}

VERDICTS = {
    "odihr-2016": (Mission.Verdict.CRITICAL, "odihr-2016-way-to-go"),
    "odihr-2021": (Mission.Verdict.CRITICAL, "odihr-2021-no-genuine-choice"),
    "cis-2021": (Mission.Verdict.ENDORSED, "cis-2021-transparent"),
    "csto-pa-2021": (Mission.Verdict.ENDORSED, "csto-pa-2021-no-violations"),
    "ccts-2021": (Mission.Verdict.ENDORSED, "ccts-2021-compliance"),
}

PUBLISHED = Mission.Status.PUBLISHED


class Command(BaseCommand):
    help = (
        "Load the demo data set (the 2016 and 2021 Kazakhstan Mazhilis elections) built from the facts sheet. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds an organisation.",
        )

    def handle(self, *args, if_empty=False, **options):
        with transaction.atomic():
            if if_empty and Organisation.objects.exists():
                self.stdout.write("The database already holds organisations: the demo data was not loaded.")
                return
            self.outcome = {}
            organisations = self.load_organisations()
            elections = self.load_elections()
            missions = self.load_missions(organisations, elections)
            documents = self.load_documents(organisations, elections, missions)
            excerpts = self.load_excerpts(missions, documents)
            self.load_verdicts(missions, excerpts)
        self.report()

    def load_organisations(self):
        organisations = {}
        for row in ORGANISATIONS:
            values = {
                "name": row["name"],
                "acronym": row.get("acronym", ""),
                "kind": row["kind"],
                "parent": organisations[row["parent"]] if row.get("parent") else None,
                "country": row.get("country", ""),
                "website": row.get("website", ""),
                "endorsed_declaration": row.get("endorsed_declaration", False),
                "endorsed_declaration_on": None,
                "description": row.get("description", ""),
            }
            organisations[row["slug"]] = self.upsert(Organisation, {"slug": row["slug"]}, values)
        return organisations

    def load_elections(self):
        elections = {}
        for row in ELECTIONS:
            values = {key: value for key, value in row.items() if key != "slug"}
            elections[row["slug"]] = self.upsert(Election, {"slug": row["slug"]}, values)
        return elections

    def load_missions(self, organisations, elections):
        missions = {}
        for key, row in MISSIONS.items():
            lookup = {
                "organisation": organisations[row["organisation"]],
                "election": elections[row["election"]],
                "mission_type": row["mission_type"],
            }
            values = {
                "status": PUBLISHED,
                "head": row.get("head", ""),
                "core_team": row.get("core_team"),
                "long_term_observers": row.get("long_term_observers"),
                "short_term_observers": row.get("short_term_observers"),
                "accredited_observers": row.get("accredited_observers"),
                "deployed_from": row.get("deployed_from"),
                "deployed_to": row.get("deployed_to"),
                "notes": row.get("notes", ""),
                "sources": "\n".join(row.get("sources", [])),
            }
            mission = self.upsert(Mission, lookup, values)
            # Partners before excerpts: they decide which excerpts are characterisations.
            self.set_m2m(mission, "joint_partners", [organisations[slug] for slug in row.get("partners", [])])
            missions[key] = mission
        return missions

    def load_documents(self, organisations, elections, missions):
        documents = {}
        for key, row in DOCUMENTS.items():
            publisher = organisations[row["publisher"]]
            url = row.get("url", "")
            lookup = {"url": url} if url else {"url": "", "title": row["title"], "publisher": publisher}
            values = {
                "status": PUBLISHED,
                "title": row["title"],
                "kind": row["kind"],
                "publisher": publisher,
                "author": row.get("author", ""),
                "date": row.get("date"),
                "language": row.get("language", "en"),
                "provenance": row.get("provenance", Document.Provenance.OWN_COPY),
                "election": elections[row["election"]],
                "notes": row.get("notes", ""),
            }
            for field in lookup:
                values.pop(field, None)
            document = self.upsert(Document, lookup, values)
            self.set_m2m(document, "missions", [missions[mission] for mission in row["missions"]])
            documents[key] = document
        return documents

    def load_excerpts(self, missions, documents):
        topics = {topic.slug: topic for topic in Topic.objects.all()}
        excerpts = {}
        for key, row in EXCERPTS.items():
            lookup = {"document": documents[row["document"]], "text": row["text"]}
            values = {
                "status": PUBLISHED,
                "mission": missions[row["mission"]],
                "language": "en",
                "stance": row["stance"],
                "is_headline": row.get("is_headline", False),
                "fidelity": row.get("fidelity", ""),
                "fidelity_note": row.get("fidelity_note", ""),
            }
            excerpt = self.upsert(Excerpt, lookup, values)
            if excerpt.is_characterisation != bool(values["fidelity"]):
                raise CommandError(f"Excerpt {key!r}: the publisher and the mission do not make it what the data says.")
            missing = set(row.get("topics", [])) - set(topics)
            if missing:
                raise CommandError(f"Topics missing (run the migrations): {', '.join(sorted(missing))}")
            self.set_m2m(excerpt, "topics", [topics[slug] for slug in row.get("topics", [])])
            excerpts[key] = excerpt
        for key, row in EXCERPTS.items():
            self.set_m2m(excerpts[key], "primary_excerpts", [excerpts[primary] for primary in row.get("primary", [])])
        return excerpts

    def load_verdicts(self, missions, excerpts):
        for key, mission in missions.items():
            verdict, excerpt = VERDICTS.get(key, ("", None))
            values = {"verdict": verdict, "verdict_excerpt": excerpts[excerpt] if excerpt else None}
            self.upsert(Mission, {"pk": mission.pk}, values)

    def upsert(self, model, lookup, values):
        """Create the record, or save it only if a value differs, so that a rerun writes no history."""
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            self.validate(obj)
            obj.save()
            self.mark(obj, "created")
            return obj
        changed = [name for name, value in values.items() if not self.same(obj, name, value)]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            self.validate(obj)
            obj.save()
            self.mark(obj, "updated")
        else:
            self.mark(obj, "unchanged")
        return obj

    @staticmethod
    def validate(obj):
        try:
            obj.full_clean()
        except ValidationError as error:
            # Most likely an editor's record already holds this name or address under another key.
            raise CommandError(f"{obj._meta.verbose_name} “{obj}”: {'; '.join(error.messages)}") from error

    def set_m2m(self, obj, name, targets):
        manager = getattr(obj, name)
        if set(manager.values_list("pk", flat=True)) != {target.pk for target in targets}:
            manager.set(targets)
            self.mark(obj, "updated")

    @staticmethod
    def same(obj, name, value):
        field = obj._meta.get_field(name)
        if field.many_to_one:
            return getattr(obj, field.attname) == (value.pk if value is not None else None)
        return getattr(obj, name) == value

    def mark(self, obj, state):
        """Remember the strongest thing that happened to a record: created, then updated, then unchanged."""
        key = (type(obj), obj.pk)
        order = ["unchanged", "updated", "created"]
        if order.index(state) > order.index(self.outcome.get(key, "unchanged")):
            self.outcome[key] = state
        else:
            self.outcome.setdefault(key, state)

    def report(self):
        counts = {model: Counter() for model in (Organisation, Election, Mission, Document, Excerpt)}
        for (model, _pk), state in self.outcome.items():
            counts[model][state] += 1
        self.stdout.write("Demo data (Kazakhstan, 2016 and 2021):")
        for model, count in counts.items():
            self.stdout.write(
                f"  {model._meta.verbose_name_plural:<14} {count['created']:>3} created, "
                f"{count['updated']:>3} updated, {count['unchanged']:>3} unchanged"
            )
        total = sum(counts.values(), Counter())
        message = f"{total['created']} created, {total['updated']} updated, {total['unchanged']} unchanged."
        self.stdout.write(self.style.SUCCESS(message))
