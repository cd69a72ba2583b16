"""Joining a tenant by invitation (README, "Roles").

A tenant admin invites an email address with a role; the link is mailed and nowhere else (the
table keeps only the token's SHA-256). Nothing here looks a user up by what the admin typed, so
the answer is the same whoever the address belongs to: a tenant admin learns nothing about the
installation's other users. Whoever holds the link joins: a logged-in user with `accept`, a
new person with `signup` (named by the invitation's email; Django's password validators).
"""
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from loom.errors import Conflict, FieldsInvalid, Unavailable
from tenancy.models import Invitation, Membership, Role, Tenant

User = get_user_model()
GONE = "This invitation does not exist, has expired or was already used."


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(token: str) -> str:
    return f"{settings.LOOM_PUBLIC_URL}/invitations/{token}"


@transaction.atomic
def invitation_create(*, tenant: Tenant, email: str, role: str = Role.VIEWER, invited_by) -> Invitation:
    """Invite `email` (replacing its pending invitation to this tenant) and mail the link; if the
    mail cannot be sent, no invitation is left behind (503)."""
    Invitation.objects.filter(tenant=tenant, email__iexact=email, accepted_at=None).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant, email=email, role=role, invited_by=invited_by, token_sha256=_sha256(token),
        expires_at=timezone.now() + timedelta(days=settings.LOOM_INVITATION_DAYS))
    inviter = invited_by.get_username() if invited_by else "An admin"
    try:
        send_mail(
            " ".join(f"Join {tenant.name} on Loom".split()),  # a header: no line breaks
            f"{inviter} invites you to the tenant {tenant.name} ({tenant.slug}) on Loom as {role}.\n\n"
            f"Open this link to accept (valid until {invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n"
            f"{invitation_link(token)}\n",
            None, [email])
    except (OSError, ConnectionError) as e:
        raise Unavailable(f"The invitation email could not be sent ({type(e).__name__}); nothing was saved.") from None
    return invitation


def invitation_pending(*, token: str, lock: bool = False) -> Invitation:
    """The unexpired, unused invitation of `token`; Invitation.DoesNotExist (404) otherwise."""
    rows = Invitation.objects.select_related("tenant")
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = rows.filter(token_sha256=_sha256(token), accepted_at=None, expires_at__gt=timezone.now()).first()
    if found is None:
        raise Invitation.DoesNotExist(GONE)
    return found


@transaction.atomic
def invitation_accept(*, token: str, user) -> Membership:
    """`user` joins the invitation's tenant with its role; the link is then used up."""
    invitation = invitation_pending(token=token, lock=True)
    current = Membership.objects.filter(tenant=invitation.tenant, user=user).first()
    if current:
        raise Conflict(f"You are already a member of {invitation.tenant.slug} (as {current.role}).")
    membership = Membership.objects.create(tenant=invitation.tenant, user=user, role=invitation.role)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_signup(*, token: str, password: str) -> Membership:
    """A new user who joins the invitation's tenant. The invitation fixes the username: its email,
    so a sign-up form can never be used to test which usernames exist. Whoever holds the link
    learns only whether the address the link was mailed to already has an account."""
    invitation = invitation_pending(token=token, lock=True)
    username = invitation.email
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"There is an account named {username} already: log in with it to join.")
    user = User(username=username, email=invitation.email)
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as e:
        raise FieldsInvalid({"password": e.messages}) from None
    try:
        user.full_clean(exclude=["password"])
    except DjangoValidationError:
        raise FieldsInvalid({"token": [f"{username} cannot be a username (letters, digits and @.+-_ only): "
                                       "ask to be invited at another address, or to be added by a platform admin."]}) from None
    user.set_password(password)
    user.save()
    return invitation_accept(token=token, user=user)
