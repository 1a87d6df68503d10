from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from observers.models import Excerpt, Topic
from observers.signals import record_changed


class Command(BaseCommand):
    help = (
        "Delete topics however many excerpts they are on: their links are removed a batch at a time, each "
        "batch a transaction of its own (each excerpt is written again), and then the topics. The admin "
        "sends topics on many excerpts here."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="+", metavar="slug", help="The topics' slugs.")
        parser.add_argument("--batch", type=int, default=2000, help="Links removed per transaction.")
        parser.add_argument("--database", default="default", help="The database to delete them from.")

    def handle(self, slugs, batch, database, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        topics = list(Topic.objects.using(database).filter(slug__in=slugs))
        unknown = sorted(set(slugs) - {topic.slug for topic in topics})
        if unknown:
            raise CommandError(f"No topic with the slug {', '.join(unknown)}; nothing deleted.")
        links = Excerpt.topics.through.objects.using(database)
        for topic in topics:
            total = links.filter(topic=topic).count()
            removed = 0
            while ids := list(links.filter(topic=topic).values_list("pk", flat=True)[:batch]):
                with transaction.atomic(using=database):
                    removed += links.filter(pk__in=ids).delete()[0]
                    # Removed rows send no signal: pages and counts cached before them are retired here.
                    record_changed(using=database)
                self.stdout.write(f"{topic.name}: removed from {removed:,} of {total:,} excerpts")
            with transaction.atomic(using=database):
                topic.delete()
            self.stdout.write(f"Deleted the topic {topic.name} ({topic.slug}).")
