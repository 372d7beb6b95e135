//! The storage port contract on PostgreSQL, connected as the non-owner application role so
//! row-level security is enforced (a fresh database per case). Skipped when
//! `TESSERA_TEST_DATABASE_URL` is unset.

tessera_testkit::repository_contract_tests!(postgres, async {
    tessera_testkit::test_repositories(tessera_testkit::TestBackend::Postgres).await
});
