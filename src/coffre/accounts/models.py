"""People (who sign in with their e-mail address), enterprises (identified by their CBE/KBO
number), and the roles that link them (``Membership``), with invitations by e-mail.

Accounting firms, their collaborators and portfolios are in ``coffre.accounts.firms``; what each
role may do is in ``coffre.accounts.permissions``.
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    # The person who approves unknown senders of documents by e-mail (seed 002); by default the
    # principal access manager.
    client_admin = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

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


class Role(models.TextChoices):
    PRINCIPAL = "principal", _("Principal access manager")
    CO_PRINCIPAL = "co_principal", _("Co-principal access manager")
    MANAGER = "manager", _("Access manager")
    CO_MANAGER = "co_manager", _("Co-access manager")
    MEMBER = "member", _("Member")
    ACCOUNTANT = "accountant", _("Accountant")


class Membership(models.Model):
    """A person's role in an enterprise (one role per person and enterprise)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "enterprise"], name="one_role_per_person"),
            models.UniqueConstraint(
                fields=["enterprise"], condition=models.Q(role="principal"), name="one_principal_per_enterprise"
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "role"], name="membership_by_role")]

    def __str__(self):
        return f"{self.user} {self.role} of {self.enterprise.cbe}"


class Invitation(models.Model):
    """An e-mailed invitation to take a role in an enterprise (members, managers, accountants).

    Only the SHA-256 of the token is kept; the link in the e-mail carries the token itself.
    """

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["enterprise", "created_at"], name="invitation_list")]


class SecurityEvent(models.Model):
    """The security log of an enterprise (and of people): sign-ins that failed, links and their
    removal, reports of suspicious activity. Never holds a secret."""

    KINDS = [
        ("suspicious_activity", _("Suspicious activity reported")),
        ("login_failed", _("Failed sign-in")),
        ("login_locked", _("Sign-in temporarily locked")),
        ("account_linked", _("Person linked to a business account")),
        ("account_link_removed", _("Link removed")),
        ("account_link_refused", _("Linking refused")),
        ("role_changed", _("Role changed")),
        ("two_factor_changed", _("Two-factor authentication changed")),
    ]

    kind = models.CharField(max_length=30, choices=KINDS)
    enterprise = models.ForeignKey(Enterprise, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["enterprise", "-created_at"], name="security_log")]


# --- accounting firms (seed 002) -------------------------------------------------------------------


class AccountingFirm(models.Model):
    """An accounting firm whose collaborators serve client enterprises (its portfolio)."""

    name = models.CharField(max_length=200)
    enterprise = models.OneToOneField(
        Enterprise, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounting_firm"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


class Collaborator(models.Model):
    firm = models.ForeignKey(AccountingFirm, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="collaborations")
    is_admin = models.BooleanField(default=False)  # manages the firm's collaborators and portfolio
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["firm", "user"], name="collaborator_once")]


class ClientFile(models.Model):
    """An enterprise in a firm's portfolio: its collaborators may read and download its e-Box."""

    firm = models.ForeignKey(AccountingFirm, on_delete=models.CASCADE, related_name="client_files")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="client_files")
    created_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["firm", "enterprise"], name="client_file_once")]


class Favourite(models.Model):
    collaborator = models.ForeignKey(Collaborator, on_delete=models.CASCADE, related_name="favourites")
    client_file = models.ForeignKey(ClientFile, on_delete=models.CASCADE, related_name="favourites")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collaborator", "client_file"], name="favourite_once")]


class Assignment(models.Model):
    """A collaborator "attached" to a client file: one of the people who handle it."""

    collaborator = models.ForeignKey(Collaborator, on_delete=models.CASCADE, related_name="assignments")
    client_file = models.ForeignKey(ClientFile, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collaborator", "client_file"], name="assignment_once")]


# --- business accounts and linking (seed 003) -----------------------------------------------------


class BusinessAccount(models.Model):
    """A customer account of an enterprise, to which people link their profile (seed 003)."""

    class Kind(models.TextChoices):
        COMMERCIAL = "commercial", _("Commercial account")
        SMALL_BUSINESS = "small_business", _("Small business account")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="business_accounts")
    client_number = models.CharField(max_length=20, unique=True)
    postal_code = models.CharField(max_length=10)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMMERCIAL)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.client_number


class BusinessContract(models.Model):
    account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="contracts")
    number = models.CharField(max_length=30)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "number"], name="contract_once")]


class BusinessContact(models.Model):
    class Kind(models.TextChoices):
        PRIMARY = "primary", _("Primary contact")
        BILLING = "billing", _("Billing contact")

    account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=150, blank=True)
    email = models.EmailField()


class AccountLink(models.Model):
    """A person linked to a business account. The contacts got a one-click removal link (only the
    token's SHA-256 is kept), valid 30 days and usable once."""

    account = models.ForeignKey(BusinessAccount, on_delete=models.CASCADE, related_name="links")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_links")
    created_at = models.DateTimeField(default=timezone.now)
    removal_token_sha256 = models.CharField(max_length=64, unique=True)
    removal_expires_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    # The membership this link created (None when the person already had a role there): removing
    # the link removes it, never a role the person had before.
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "user"], condition=models.Q(removed_at__isnull=True), name="one_live_link"
            )
        ]
