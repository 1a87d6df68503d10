from django.db import migrations

TOPICS = [
    ("legal-framework", "Legal framework", "The constitution, election law and regulations."),
    ("election-administration", "Election administration", "The election commissions and how they work."),
    ("voter-registration", "Voter registration", "Who can vote and how voter lists are kept."),
    ("candidate-registration", "Candidate registration", "Who can stand, and how parties and candidates are registered."),
    ("campaign", "Campaign", "The campaign, competition and the choice before voters."),
    ("media", "Media", "Media coverage, access to the media and media freedom."),
    ("fundamental-freedoms", "Fundamental freedoms", "Freedoms of expression, assembly and association."),
    ("voting", "Voting", "Election day: opening, voting and secrecy of the vote."),
    ("counting-and-tabulation", "Counting and tabulation", "Counting the votes and tabulating the results."),
    ("complaints-and-appeals", "Complaints and appeals", "How disputes are heard and decided."),
    ("turnout", "Turnout", "How many voted, and how turnout is reported."),
    ("observer-access", "Observer access", "Whether citizen and international observers could observe."),
]


def add_topics(apps, schema_editor):
    Topic = apps.get_model("observers", "Topic")
    for slug, name, description in TOPICS:
        Topic.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})


def remove_topics(apps, schema_editor):
    apps.get_model("observers", "Topic").objects.filter(slug__in=[slug for slug, _, _ in TOPICS]).delete()


class Migration(migrations.Migration):
    dependencies = [("observers", "0001_initial")]

    operations = [migrations.RunPython(add_topics, remove_topics)]
