from excerpts.management.commands import repair_database


class Command(repair_database.Command):
    help = f"The earlier name of repair_database. {repair_database.Command.help}"
