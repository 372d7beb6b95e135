//! The storage port contract on SQLite (a fresh migrated file per case).

tessera_testkit::repository_contract_tests!(sqlite, async {
    tessera_testkit::test_repositories(tessera_testkit::TestBackend::Sqlite).await
});
