"""The portal's account pages. Each area has its own module of views (``views``, and the helpers'
``views_*``); their URL lists are gathered here under the ``accounts`` namespace."""

from django.urls import path

from coffre.accounts import views, views_enterprises, views_two_factor

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
    path("verify/resend/", views.resend_verification, name="resend_verification"),
    path("verify/confirm/", views.verify_email_confirm, name="verify_email_confirm"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/change/", views.password_change, name="password_change"),
    path("settings/", views.settings_page, name="settings"),
    path("two-factor/setup/", views_two_factor.setup, name="two_factor_setup"),
    path("two-factor/verify/", views_two_factor.verify, name="two_factor_verify"),
    path("two-factor/recovery-codes/", views_two_factor.recovery_codes, name="two_factor_recovery_codes"),
    path("two-factor/disable/", views_two_factor.disable, name="two_factor_disable"),
    path("register/", views_enterprises.register, name="register_enterprise"),
    path("invitations/accept/", views_enterprises.invitation_accept, name="invitation_accept"),
    path("invitations/<str:token>/", views_enterprises.invitation, name="invitation"),
    path("e/<str:cbe>/people/", views_enterprises.people, name="people"),
    path("e/<str:cbe>/people/invite/", views_enterprises.invite, name="invite"),
    path("e/<str:cbe>/people/hand-over/", views_enterprises.hand_over, name="hand_over"),
    path("e/<str:cbe>/people/<int:membership_id>/role/", views_enterprises.change_role, name="change_role"),
    path(
        "e/<str:cbe>/people/<int:membership_id>/remove/",
        views_enterprises.remove_person,
        name="remove_person",
    ),
    path(
        "e/<str:cbe>/invitations/<int:invitation_id>/revoke/",
        views_enterprises.revoke_invitation,
        name="revoke_invitation",
    ),
    path("e/<str:cbe>/leave/", views_enterprises.leave, name="leave"),
    path("e/<str:cbe>/security/", views_enterprises.security_log, name="security_log"),
]

# Linking to business accounts (seed 003) and accounting firms (seed 002).
from coffre.accounts import views_firms, views_linking

urlpatterns += views_linking.urlpatterns + views_firms.urlpatterns
