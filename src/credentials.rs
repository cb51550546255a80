//! S3 clients per role: the function's own credentials, or a cross-account
//! role assumed through STS with the external id and session name.
//!
//! One client per role and region, built on first use and kept for the life of the
//! execution environment. Its credentials come from the SDK's
//! `AssumeRoleProvider` behind a lazy identity cache that refreshes them
//! [`REFRESH_BEFORE_EXPIRY`] before they expire: STS is called once per role
//! and session lifetime, never per object. Credentials are never logged (the
//! SDK redacts them in `Debug` output and we never print them).

use std::collections::HashMap;
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use tokio::sync::Mutex;

use crate::config::RoleConfig;

/// Refresh assumed-role credentials this long before they expire, so that an
/// object read never starts with credentials about to lapse.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// A role (or none: own credentials) and a region (or none: the function's).
type ClientKey = (Option<RoleConfig>, Option<String>);

/// Builds and caches S3 clients, one per role and region.
pub struct S3Clients {
    base: SdkConfig,
    force_path_style: bool,
    by_role: Mutex<HashMap<ClientKey, aws_sdk_s3::Client>>,
}

impl S3Clients {
    /// `force_path_style` is needed for custom endpoints such as a local
    /// server on loopback, where virtual-hosted bucket names cannot resolve.
    pub fn new(base: &SdkConfig, force_path_style: bool) -> Self {
        S3Clients {
            base: base.clone(),
            force_path_style,
            by_role: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `role` (the function's own credentials when `None`) in
    /// `region` (the function's when `None`).
    pub async fn client(
        &self,
        role: Option<&RoleConfig>,
        region: Option<&str>,
    ) -> aws_sdk_s3::Client {
        let cache_key = (role.cloned(), region.map(str::to_string));
        let mut cache = self.by_role.lock().await;
        if let Some(client) = cache.get(&cache_key) {
            return client.clone();
        }
        let mut builder =
            aws_sdk_s3::config::Builder::from(&self.base).force_path_style(self.force_path_style);
        if let Some(r) = region {
            builder = builder.region(aws_config::Region::new(r.to_string()));
        }
        let Some(role) = role else {
            let client = aws_sdk_s3::Client::from_conf(builder.build());
            cache.insert(cache_key, client.clone());
            return client;
        };
        let mut provider = AssumeRoleProvider::builder(role.arn.clone())
            .session_name(role.session_name.clone())
            .configure(&self.base);
        if let Some(id) = &role.external_id {
            provider = provider.external_id(id.clone());
        }
        let provider = provider.build().await;
        let client = aws_sdk_s3::Client::from_conf(
            builder
                .credentials_provider(provider)
                .identity_cache(
                    IdentityCache::lazy()
                        .buffer_time(REFRESH_BEFORE_EXPIRY)
                        .build(),
                )
                .build(),
        );
        cache.insert(cache_key, client.clone());
        client
    }
}

/// A description of how objects are read, for error messages: names the role,
/// session and whether an external id is used, never the id itself.
pub fn describe(role: Option<&RoleConfig>) -> String {
    match role {
        None => "the function's own credentials".to_string(),
        Some(r) => format!(
            "role {} (session {}, {})",
            r.arn,
            r.session_name,
            if r.external_id.is_some() {
                "with external id"
            } else {
                "no external id"
            }
        ),
    }
}
