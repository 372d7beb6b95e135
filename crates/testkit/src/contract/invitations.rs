//! `InvitationRepository`: one pending invitation per (tenant, email), expiry by the clock
//! handed in, revocation, single-use acceptance that creates the user, and tenant isolation.

use super::sample::{add_user, email, invitation, now, provision, user};
use super::{assert_conflict, assert_not_found};
use chrono::Duration;
use tessera_domain::credentials::{Invitation, InvitationStatus};
use tessera_domain::ports::Repositories;
use tessera_domain::{PageRequest, RepoError, RoleName, TenantId, User};
use uuid::Uuid;

async fn invite(r: &Repositories, tenant: TenantId, address: &str, role: &str, by: &User) -> Invitation {
    let inv = invitation(tenant, address, role, by.id, now());
    r.invitations.insert(tenant, &inv).await.unwrap();
    inv
}

pub async fn insert_then_get_and_list_in_id_order(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (other, other_admin) = provision(r, "other").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(invite(r, t.id, &format!("user{i}@acme.test"), "viewer", &admin).await);
        invite(r, other.id, &format!("user{i}@acme.test"), "viewer", &other_admin).await;
    }
    expected.sort_by_key(|i| i.id);
    for inv in &expected {
        assert_eq!(&r.invitations.get(t.id, inv.id).await.unwrap(), inv);
    }
    let first = r.invitations.list(t.id, PageRequest::new(Some(2), None)).await.unwrap();
    assert_eq!((first.items.as_slice(), first.next_after), (&expected[..2], Some(expected[1].id)));
    let second = r.invitations.list(t.id, PageRequest::new(Some(2), first.next_after)).await.unwrap();
    assert_eq!(second.items, expected[2..4]);
    let last = r.invitations.list(t.id, PageRequest::new(Some(2), second.next_after)).await.unwrap();
    assert_eq!((last.items.as_slice(), last.next_after), (&expected[4..], None));
    let all = r.invitations.list(t.id, PageRequest::default()).await.unwrap();
    assert_eq!((all.items, all.next_after), (expected, None));
}

pub async fn a_pending_invitation_for_the_email_conflicts(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (other, other_admin) = provision(r, "other").await;
    let first = invite(r, t.id, "Ann@Example.com", "viewer", &admin).await;
    let twin = invitation(t.id, "ANN@example.COM", "developer", admin.id, now());
    assert_conflict(r.invitations.insert(t.id, &twin).await, "invitation");
    assert_not_found(r.invitations.get(t.id, twin.id).await);
    // Another tenant may invite the same address.
    invite(r, other.id, "ann@example.com", "viewer", &other_admin).await;
    // Once the first is revoked, the address may be invited again.
    r.invitations.revoke(t.id, first.id, now()).await.unwrap();
    r.invitations.insert(t.id, &twin).await.unwrap();
    assert_eq!(r.invitations.list(t.id, PageRequest::default()).await.unwrap().items.len(), 2);
}

/// Pending means "not expired at the new invitation's `created_at`": an invitation that
/// expires exactly then no longer blocks, one that expires a microsecond later does.
pub async fn an_expired_invitation_does_not_block_a_new_one(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let old = invite(r, t.id, "ann@example.com", "viewer", &admin).await;
    let before = invitation(t.id, "ann@example.com", "viewer", admin.id, old.expires_at - Duration::microseconds(1));
    assert_conflict(r.invitations.insert(t.id, &before).await, "invitation");
    let at_expiry = invitation(t.id, "ann@example.com", "analyst", admin.id, old.expires_at);
    r.invitations.insert(t.id, &at_expiry).await.unwrap();
    assert_eq!(r.invitations.get(t.id, old.id).await.unwrap().status(at_expiry.created_at), InvitationStatus::Expired);
    assert_eq!(r.invitations.get(t.id, at_expiry.id).await.unwrap(), at_expiry);
}

pub async fn inviting_a_registered_email_conflicts(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let upper = admin.email.as_str().to_uppercase();
    let inv = invitation(t.id, &upper, "viewer", admin.id, now());
    assert_conflict(r.invitations.insert(t.id, &inv).await, "email");
    // Registered and invited at once (a user inserted after the invitation): `email` wins.
    let pending = invite(r, t.id, "late@acme.test", "viewer", &admin).await;
    add_user(r, t.id, "late@acme.test", "viewer").await;
    let again = invitation(t.id, "late@acme.test", "viewer", admin.id, now());
    assert_conflict(r.invitations.insert(t.id, &again).await, "email");
    let listed = r.invitations.list(t.id, PageRequest::default()).await.unwrap().items;
    assert_eq!(listed, [pending]);
}

pub async fn duplicate_id_or_token_hash_conflicts(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let (other, other_admin) = provision(r, "other").await;
    let first = invite(r, t.id, "ann@example.com", "viewer", &admin).await;
    let same_id =
        Invitation { email: email("bob@example.com"), token_hash: super::sample::token_hash(), ..first.clone() };
    assert_conflict(r.invitations.insert(t.id, &same_id).await, "id");
    // Token hashes are unique across tenants.
    let same_hash = Invitation {
        token_hash: first.token_hash.clone(),
        ..invitation(other.id, "bob@example.com", "viewer", other_admin.id, now())
    };
    assert_conflict(r.invitations.insert(other.id, &same_hash).await, "token_hash");
    assert_not_found(r.invitations.get(other.id, same_hash.id).await);
    assert_eq!(r.invitations.get(t.id, first.id).await.unwrap(), first);
}

pub async fn insert_refuses_another_tenant_or_an_unknown_one(r: &Repositories) {
    let (a, admin) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    let of_b = invitation(b.id, "ann@example.com", "viewer", admin.id, now());
    assert_conflict(r.invitations.insert(a.id, &of_b).await, "tenant_mismatch");
    assert_not_found(r.invitations.get(a.id, of_b.id).await);
    assert_not_found(r.invitations.get(b.id, of_b.id).await);
    let ghost = TenantId(Uuid::now_v7());
    let of_ghost = invitation(ghost, "ann@example.com", "viewer", admin.id, now());
    assert_not_found(r.invitations.insert(ghost, &of_ghost).await);
    assert!(r.invitations.list(ghost, PageRequest::default()).await.unwrap().items.is_empty());
}

pub async fn other_tenants_invitations_are_invisible(r: &Repositories) {
    let (a, a_admin) = provision(r, "tenant-a").await;
    let (b, b_admin) = provision(r, "tenant-b").await;
    let victim = invite(r, b.id, "victim@example.com", "developer", &b_admin).await;
    let at = now();

    assert_not_found(r.invitations.get(a.id, victim.id).await);
    assert!(r.invitations.list(a.id, PageRequest::default()).await.unwrap().items.is_empty());
    assert_not_found(r.invitations.revoke(a.id, victim.id, at).await);
    let taker = user(a.id, "victim@example.com", "viewer");
    assert_not_found(r.invitations.accept(a.id, &victim.token_hash, &taker, at).await);
    assert_not_found(r.users.get(a.id, taker.id).await);
    assert!(!r.invitations.pending_with_role(a.id, &RoleName::new("developer"), at).await.unwrap());
    // A's own invitation for the same address is not blocked by B's.
    invite(r, a.id, "victim@example.com", "viewer", &a_admin).await;

    assert_eq!(r.invitations.get(b.id, victim.id).await.unwrap(), victim);
    assert!(r.invitations.pending_with_role(b.id, &RoleName::new("developer"), at).await.unwrap());
}

pub async fn revoke_is_idempotent_and_refuses_an_accepted_one(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let inv = invite(r, t.id, "ann@example.com", "viewer", &admin).await;
    let at = now();
    r.invitations.revoke(t.id, inv.id, at).await.unwrap();
    let revoked = r.invitations.get(t.id, inv.id).await.unwrap();
    assert_eq!(revoked, Invitation { revoked_at: Some(at), ..inv.clone() });
    assert_eq!(revoked.status(at), InvitationStatus::Revoked);
    // Again: fine, and the first revocation's time stays.
    r.invitations.revoke(t.id, inv.id, at + Duration::seconds(5)).await.unwrap();
    assert_eq!(r.invitations.get(t.id, inv.id).await.unwrap(), revoked);

    let accepted = invite(r, t.id, "bob@example.com", "viewer", &admin).await;
    let bob = user(t.id, "bob@example.com", "viewer");
    r.invitations.accept(t.id, &accepted.token_hash, &bob, at).await.unwrap();
    assert_conflict(r.invitations.revoke(t.id, accepted.id, at).await, "accepted");
    assert_eq!(r.invitations.get(t.id, accepted.id).await.unwrap().revoked_at, None);

    // An expired one can still be revoked; an unknown one is not found.
    let expired = invite(r, t.id, "cy@example.com", "viewer", &admin).await;
    r.invitations.revoke(t.id, expired.id, expired.expires_at + Duration::days(1)).await.unwrap();
    assert_not_found(r.invitations.revoke(t.id, Uuid::now_v7(), at).await);
}

pub async fn accept_creates_the_user_with_the_invited_role_once(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let inv = invite(r, t.id, "Ann@Example.com", "developer", &admin).await;
    let at = now();
    let ann = user(t.id, "ann@example.com", "viewer");
    let stored = r.invitations.accept(t.id, &inv.token_hash, &ann, at).await.unwrap();
    assert_eq!(stored, User { role: RoleName::new("developer"), ..ann.clone() });
    assert_eq!(r.users.get(t.id, ann.id).await.unwrap(), stored);
    let accepted = r.invitations.get(t.id, inv.id).await.unwrap();
    assert_eq!(accepted, Invitation { accepted_at: Some(at), ..inv.clone() });
    assert_eq!(accepted.status(at), InvitationStatus::Accepted);
    // Single use: the token is spent, whoever presents it.
    let again = user(t.id, "ann@example.com", "viewer");
    assert_not_found(r.invitations.accept(t.id, &inv.token_hash, &again, at).await);
    assert_not_found(r.users.get(t.id, again.id).await);
    assert_eq!(r.users.count(t.id).await.unwrap(), 2);
}

pub async fn accept_with_another_email_is_not_found_and_writes_nothing(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let inv = invite(r, t.id, "ann@example.com", "developer", &admin).await;
    let at = now();
    let mallory = user(t.id, "mallory@example.com", "viewer");
    assert_not_found(r.invitations.accept(t.id, &inv.token_hash, &mallory, at).await);
    assert_not_found(r.users.get(t.id, mallory.id).await);
    assert_eq!(r.users.count(t.id).await.unwrap(), 1);
    assert_eq!(r.invitations.get(t.id, inv.id).await.unwrap(), inv);
    // The invitee still can.
    let ann = user(t.id, "ANN@example.com", "viewer");
    r.invitations.accept(t.id, &inv.token_hash, &ann, at).await.unwrap();
}

pub async fn accept_of_an_expired_revoked_or_unknown_token_is_not_found(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let expiring = invite(r, t.id, "ann@example.com", "viewer", &admin).await;
    let ann = user(t.id, "ann@example.com", "viewer");
    // Expired exactly at `expires_at`.
    assert_not_found(r.invitations.accept(t.id, &expiring.token_hash, &ann, expiring.expires_at).await);
    let revoked = invite(r, t.id, "bob@example.com", "viewer", &admin).await;
    r.invitations.revoke(t.id, revoked.id, now()).await.unwrap();
    let bob = user(t.id, "bob@example.com", "viewer");
    assert_not_found(r.invitations.accept(t.id, &revoked.token_hash, &bob, now()).await);
    assert_not_found(r.invitations.accept(t.id, &super::sample::token_hash(), &bob, now()).await);
    assert_eq!(r.users.count(t.id).await.unwrap(), 1);
    assert_eq!(r.invitations.get(t.id, expiring.id).await.unwrap(), expiring);
    // A microsecond before expiry it still works.
    let just_in_time = expiring.expires_at - Duration::microseconds(1);
    r.invitations.accept(t.id, &expiring.token_hash, &ann, just_in_time).await.unwrap();
}

pub async fn accept_for_a_registered_email_conflicts_and_keeps_it_pending(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let inv = invite(r, t.id, "ann@example.com", "viewer", &admin).await;
    add_user(r, t.id, "ann@example.com", "viewer").await;
    let ann = user(t.id, "ann@example.com", "viewer");
    assert_conflict(r.invitations.accept(t.id, &inv.token_hash, &ann, now()).await, "email");
    assert_not_found(r.users.get(t.id, ann.id).await);
    assert_eq!(r.invitations.get(t.id, inv.id).await.unwrap(), inv);

    // A user id that exists already: `id`, nothing written either.
    let other = invite(r, t.id, "bob@example.com", "viewer", &admin).await;
    let clash = User { email: email("bob@example.com"), ..admin.clone() };
    assert_conflict(r.invitations.accept(t.id, &other.token_hash, &clash, now()).await, "id");
    assert_eq!(r.invitations.get(t.id, other.id).await.unwrap(), other);
    assert_eq!(r.users.get(t.id, admin.id).await.unwrap(), admin);
}

pub async fn accept_refuses_a_user_of_another_tenant(r: &Repositories) {
    let (a, admin) = provision(r, "tenant-a").await;
    let (b, _) = provision(r, "tenant-b").await;
    let inv = invite(r, a.id, "ann@example.com", "viewer", &admin).await;
    let of_b = user(b.id, "ann@example.com", "viewer");
    assert!(matches!(r.invitations.accept(a.id, &inv.token_hash, &of_b, now()).await, Err(RepoError::Conflict(_))));
    assert_not_found(r.users.get(b.id, of_b.id).await);
    assert_eq!(r.invitations.get(a.id, inv.id).await.unwrap(), inv);
}

pub async fn pending_with_role_sees_only_pending_invitations(r: &Repositories) {
    let (t, admin) = provision(r, "acme").await;
    let analyst = RoleName::new("analyst");
    let at = now();
    assert!(!r.invitations.pending_with_role(t.id, &analyst, at).await.unwrap());
    let inv = invite(r, t.id, "ann@example.com", "analyst", &admin).await;
    assert!(r.invitations.pending_with_role(t.id, &analyst, at).await.unwrap());
    assert!(!r.invitations.pending_with_role(t.id, &RoleName::viewer(), at).await.unwrap());
    assert!(!r.invitations.pending_with_role(t.id, &analyst, inv.expires_at).await.unwrap());
    r.invitations.revoke(t.id, inv.id, at).await.unwrap();
    assert!(!r.invitations.pending_with_role(t.id, &analyst, at).await.unwrap());

    let accepted = invite(r, t.id, "bob@example.com", "analyst", &admin).await;
    assert!(r.invitations.pending_with_role(t.id, &analyst, at).await.unwrap());
    let bob = user(t.id, "bob@example.com", "viewer");
    r.invitations.accept(t.id, &accepted.token_hash, &bob, at).await.unwrap();
    assert!(!r.invitations.pending_with_role(t.id, &analyst, at).await.unwrap());
    assert!(!r.invitations.pending_with_role(TenantId(Uuid::now_v7()), &analyst, at).await.unwrap());
}
