from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT = ["organisation", "election", "mission", "document", "excerpt", "topic"]
PUBLISHABLE = ["mission", "document", "excerpt"]


def codenames(actions, models):
    return [f"{action}_{model}" for model in models for action in actions]


ROLES = {
    # Editors add and change content and submit it for review; they also see its history.
    "Editor": codenames(["view", "add", "change"], CONTENT)
    + codenames(["view"], [f"historical{model}" for model in CONTENT]),
    # Publishers do everything editors do, and publish, unpublish, revert and delete.
    "Publisher": codenames(["view", "add", "change", "delete"], CONTENT)
    + codenames(["view"], [f"historical{model}" for model in CONTENT])
    + [f"publish_{model}" for model in PUBLISHABLE],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="observers", codename__in=wanted)
        missing = set(wanted) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for the {name} role: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("observers", "0004_publish_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
