//! The storage port contract on the memory adapters.

tessera_testkit::repository_contract_tests!(memory, async { tessera_repository::memory::repositories() });
