//! Port contract suites: one async function per rule of the storage ports, run against
//! every adapter by [`repository_contract_tests!`]. A case receives fresh, empty
//! repositories and panics (via `assert!`) when the adapter breaks the rule.
//!
//! A new port method gets its case here first, then its name in the macro's list.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "contract cases are test code, compiled into the library so every adapter crate can run them"
)]

pub mod admin_guard;
pub mod attempts;
pub mod concurrency;
pub mod credential_races;
pub mod credentials;
pub mod invalidation;
pub mod invitations;
pub mod lockouts;
pub mod refresh_rotation;
pub mod sample;
pub mod session_limits;
pub mod session_revocation;
pub mod sessions;
pub mod signing_keys;
pub mod tenant_settings;
pub mod tenants;
pub mod usage;
pub mod users;

use crate::db::TestRepositories;
use std::fmt::Debug;
use tessera_domain::RepoError;
use tessera_domain::ports::Repositories;

/// What a contract suite's setup expression may produce: repositories, repositories with
/// a keep-alive guard, or `None` to skip (a backend that is not configured).
pub trait IntoTestRepositories {
    fn into_test_repositories(self) -> Option<TestRepositories>;
}

impl IntoTestRepositories for Repositories {
    fn into_test_repositories(self) -> Option<TestRepositories> {
        Some(TestRepositories::new(self))
    }
}

impl IntoTestRepositories for TestRepositories {
    fn into_test_repositories(self) -> Option<TestRepositories> {
        Some(self)
    }
}

impl<T: IntoTestRepositories> IntoTestRepositories for Option<T> {
    fn into_test_repositories(self) -> Option<TestRepositories> {
        self.and_then(IntoTestRepositories::into_test_repositories)
    }
}

/// Expands to `mod $name { mod tenants { #[tokio::test] async fn … } mod users { … } … }`,
/// one test per contract case, each on fresh repositories from `$setup` — an async block
/// yielding anything [`IntoTestRepositories`] (`None` skips the case with a message).
/// The calling crate needs `tokio` (macros, rt) among its dependencies.
///
/// ```ignore
/// tessera_testkit::repository_contract_tests!(memory, async { tessera_repository::memory::repositories() });
/// tessera_testkit::repository_contract_tests!(postgres, async {
///     tessera_testkit::test_repositories(tessera_testkit::TestBackend::Postgres).await
/// });
/// ```
#[macro_export]
macro_rules! repository_contract_tests {
    ($name:ident, $setup:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__contract_cases! { $setup;
                tenants {
                    provision_then_get_and_find_by_slug,
                    provision_with_a_taken_slug_conflicts,
                    provision_rolls_back_when_the_admin_insert_fails,
                    provision_refuses_an_admin_of_another_tenant,
                    unknown_tenant_is_not_found,
                    list_pages_in_id_order,
                    update_writes_the_mutable_fields,
                    update_of_an_unknown_tenant_is_not_found,
                }
                tenant_settings {
                    settings_default_to_an_empty_object,
                    set_then_get_round_trips_a_nested_object,
                    set_settings_with_a_stale_expectation_conflicts,
                    set_settings_compares_json_values_not_text,
                    settings_are_per_tenant,
                    settings_of_an_unknown_tenant_are_not_found,
                    set_settings_refuses_what_is_not_an_object,
                    set_settings_bumps_updated_at_and_keeps_the_rest,
                    update_keeps_the_settings,
                }
                users {
                    insert_then_get,
                    find_by_email_ignores_case,
                    email_is_unique_per_tenant_only,
                    duplicate_id_conflicts,
                    insert_refuses_a_user_of_another_tenant,
                    insert_into_an_unknown_tenant_is_not_found,
                    list_pages_with_a_cursor,
                    update_writes_the_mutable_fields,
                    update_to_a_taken_email_conflicts,
                    update_and_delete_of_unknown_users_are_not_found,
                    delete_removes_the_user,
                    count_counts_only_the_tenant,
                    other_tenants_users_are_invisible,
                }
                admin_guard {
                    last_admin_cannot_be_demoted,
                    last_admin_cannot_be_disabled,
                    last_admin_cannot_be_deleted,
                    super_admin_counts_as_an_admin,
                    another_active_admin_allows_removal,
                    inactive_admins_do_not_count,
                    guard_none_allows_removing_the_last_admin,
                    writes_to_non_admins_pass_the_guard,
                }
                sessions {
                    create_then_get,
                    unknown_session_is_not_found,
                    other_tenants_session_is_not_found,
                    create_for_a_user_outside_the_tenant_is_not_found,
                    duplicate_token_hash_conflicts,
                    refresh_token_must_belong_to_the_session,
                    deleting_the_user_removes_its_sessions,
                }
                session_limits {
                    eviction_keeps_max_live_and_evicts_the_oldest_first,
                    max_live_counts_only_live_sessions,
                    eviction_touches_no_other_user_or_tenant,
                    a_failed_create_evicts_nothing,
                    list_live_is_newest_first_without_revoked_or_expired,
                    list_live_is_tenant_scoped,
                }
                session_revocation {
                    revoke_is_idempotent,
                    revoke_in_another_tenant_is_not_found,
                    revoked_sessions_refresh_tokens_are_invalid,
                    revoke_all_for_user_keeps_keep_and_touches_no_one_else,
                    revoke_all_for_user_in_another_tenant_revokes_nothing,
                }
                refresh_rotation {
                    rotation_updates_last_seen_and_the_replacement_rotates_next,
                    the_replacement_joins_the_rotated_tokens_session,
                    reuse_within_grace_changes_nothing,
                    reuse_after_grace_revokes_the_session,
                    unknown_token_is_invalid,
                    expired_token_is_invalid,
                    session_past_expiry_is_invalid,
                    idle_session_is_invalid,
                    another_tenants_token_is_invalid,
                    a_failed_rotation_leaves_the_token_unused,
                    a_replacement_of_another_tenant_is_refused,
                }
                signing_keys {
                    list_is_empty_at_first,
                    insert_then_list_newest_first,
                    duplicate_kid_conflicts,
                    retire_all_except_retires_the_others_once,
                }
                invitations {
                    insert_then_get_and_list_in_id_order,
                    a_pending_invitation_for_the_email_conflicts,
                    an_expired_invitation_does_not_block_a_new_one,
                    inviting_a_registered_email_conflicts,
                    duplicate_id_or_token_hash_conflicts,
                    insert_refuses_another_tenant_or_an_unknown_one,
                    other_tenants_invitations_are_invisible,
                    revoke_is_idempotent_and_refuses_an_accepted_one,
                    accept_creates_the_user_with_the_invited_role_once,
                    accept_with_another_email_is_not_found_and_writes_nothing,
                    accept_of_an_expired_revoked_or_unknown_token_is_not_found,
                    accept_for_a_registered_email_conflicts_and_keeps_it_pending,
                    accept_refuses_a_user_of_another_tenant,
                    pending_with_role_sees_only_pending_invitations,
                }
                credentials {
                    find_reset_does_not_use_it_and_consume_does_once,
                    consume_voids_the_users_other_resets_only,
                    an_expired_reset_is_not_usable,
                    create_reset_conflicts_and_unknown_users,
                    other_tenants_resets_and_passwords_are_out_of_reach,
                    change_password_sets_the_password_and_pushes_the_old_one,
                    history_is_newest_first_and_trimmed_to_keep,
                    history_is_per_user,
                    deleting_the_user_removes_its_resets_and_history,
                }
                usage {
                    requests_without_usage_are_zero,
                    add_then_read,
                    repeated_adds_accumulate,
                    periods_and_tenants_stay_separate,
                    an_empty_batch_is_fine,
                    a_batch_naming_an_unknown_tenant_applies_nothing,
                    a_malformed_period_is_refused,
                    counts_saturate_at_i64_max,
                }
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($setup:expr; $($port:ident { $($case:ident),* $(,)? })*) => {
        $(
            mod $port {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[tokio::test]
                    async fn $case() {
                        let setup = $crate::contract::IntoTestRepositories::into_test_repositories($setup.await);
                        let Some(fixture) = setup else {
                            eprintln!("skipped: {} unset", $crate::db::TEST_DATABASE_URL);
                            return;
                        };
                        $crate::contract::$port::$case(&fixture.repos).await;
                    }
                )*
            }
        )*
    };
}

/// Asserts `Err(Conflict(name))`.
#[track_caller]
pub fn assert_conflict<T: Debug>(result: Result<T, RepoError>, name: &str) {
    match result {
        Err(RepoError::Conflict(found)) if found == name => {}
        other => panic!("expected Conflict({name:?}), got {other:?}"),
    }
}

/// Asserts `Err(NotFound)`.
#[track_caller]
pub fn assert_not_found<T: Debug>(result: Result<T, RepoError>) {
    match result {
        Err(RepoError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}
