"""The curators group: add and change (never delete) on every excerpt model, plus view."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATORS = "curators"
MODELS = ["excerpt", "speaker", "source", "topic", "event"]
ACTIONS = ["view", "add", "change"]


def create_curators_group(apps, schema_editor):
    # Permissions are normally created after all migrations have run; the group needs them now.
    app_config = apps.get_app_config("excerpts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=CURATORS)
    codenames = [f"{action}_{model}" for model in MODELS for action in ACTIONS]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="excerpts", codename__in=codenames))


def delete_curators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=CURATORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("excerpts", "0003_history"),
    ]

    operations = [migrations.RunPython(create_curators_group, delete_curators_group)]
