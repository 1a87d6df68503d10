from django.core.management.base import BaseCommand

from observers.backup import backup


class Command(BaseCommand):
    help = (
        "Write the whole record (every model with its history, the editors' accounts and groups, the admin's "
        "change log) to a JSON file that restore_record loads into an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to write: name.json, or name.json.gz to compress it.")
        parser.add_argument("--database", default="default", help="The database to back up.")

    def handle(self, path, database, **options):
        count = backup(path, using=database)
        self.stdout.write(f"Backed up {count} objects to {path}.")
