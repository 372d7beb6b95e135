//! Redis reachability for `/health/ready`. Redis-backed adapters (revocation, rate limits,
//! pub/sub) arrive with their issues; until then a configured Redis is checked, not used.

use async_trait::async_trait;
use tessera_rest::health::ComponentCheck;

/// Pings Redis over a fresh multiplexed connection.
pub struct RedisCheck {
    client: redis::Client,
}

impl RedisCheck {
    /// # Errors
    /// A malformed Redis URL.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        Ok(Self { client: redis::Client::open(url)? })
    }
}

#[async_trait]
impl ComponentCheck for RedisCheck {
    async fn check(&self) -> Result<(), String> {
        let mut conn = self.client.get_multiplexed_async_connection().await.map_err(|e| e.to_string())?;
        let pong: String = redis::cmd("PING").query_async(&mut conn).await.map_err(|e| e.to_string())?;
        if pong == "PONG" { Ok(()) } else { Err(format!("unexpected answer {pong}")) }
    }

    /// Without Redis the server keeps serving with local adapters (SPEC §7): degraded, not down.
    fn critical(&self) -> bool {
        false
    }
}
