from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "coffre.accounts"
    label = "accounts"
    verbose_name = "Enterprises and people"
