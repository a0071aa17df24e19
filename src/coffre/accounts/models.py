"""People (who sign in with their e-mail address) and enterprises (identified by their CBE/KBO
number). Roles that link them come with the portal."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from coffre.core.cbe import InvalidCBE, normalize_cbe

LANGUAGES = [("fr", "Français"), ("nl", "Nederlands"), ("de", "Deutsch"), ("en", "English")]


def validate_cbe(value: str) -> None:
    try:
        if normalize_cbe(value) != value:
            raise ValidationError("store the 10-digit form of the CBE number")
    except InvalidCBE as exc:
        raise ValidationError(str(exc)) from None


class Enterprise(models.Model):
    cbe = models.CharField("CBE number", max_length=10, unique=True, validators=[validate_cbe])
    name = models.CharField(max_length=200)
    language = models.CharField(max_length=2, choices=LANGUAGES, default="fr")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cbe"]

    def __str__(self):
        return f"{self.cbe} {self.name}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("a person signs in with an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Signs in with the e-mail address; reads and writes in ``language``."""

    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    language = models.CharField(max_length=2, choices=LANGUAGES, default="fr")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)  # the operator console (/admin/)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self):
        return self.email
