from django.core.management.base import BaseCommand

from observers.backup import restore


class Command(BaseCommand):
    help = (
        "Load a backup_record file into an empty, migrated database, in one transaction. Refuses a database "
        "that already holds records or accounts."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A file written by backup_record (.json or .json.gz).")
        parser.add_argument("--database", default="default", help="The database to restore into.")

    def handle(self, path, database, **options):
        count = restore(path, using=database)
        self.stdout.write(f"Restored {count} objects from {path}.")
