"""A password change revokes the user's API tokens.

Django tells every entry of AUTH_PASSWORD_VALIDATORS about a password change
(`password_changed`, called by User.save after set_password), whatever path set it: /admin/,
`manage.py changepassword`, Loom's API. A hasher upgrade at login is not a change and does not
call it, so tokens survive a Django upgrade.
"""
from accounts.services import tokens_revoke_all


class RevokeTokensOnPasswordChange:
    def validate(self, password, user=None) -> None:
        pass  # any password is fine here; the other validators judge it

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk is not None:
            tokens_revoke_all(user)

    def get_help_text(self) -> str:
        return "Changing your password revokes your API tokens."
