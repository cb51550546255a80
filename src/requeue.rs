//! The seam for continuations: "put this message on that queue". When an
//! object cannot be finished before the deadline, the function sends its own
//! queue a continuation (the object, where reading goes on, and the events
//! before it Firehose did not accept, to send again) and
//! acknowledges the original message, so that a multi-GB object is delivered
//! over several invocations instead of being redelivered from the start
//! forever.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use aws_sdk_sqs::error::DisplayErrorContext;
use tokio::sync::Mutex;

/// Sends a message to the queue named by its ARN.
pub trait Requeue: Send + Sync + 'static {
    fn send<'a>(
        &'a self,
        queue_arn: &'a str,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// `Requeue` on SQS; queue URLs are looked up once per queue.
pub struct SqsRequeue {
    client: aws_sdk_sqs::Client,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsRequeue {
    pub fn new(base: &aws_config::SdkConfig) -> Self {
        SqsRequeue {
            client: aws_sdk_sqs::Client::new(base),
            urls: Mutex::new(HashMap::new()),
        }
    }

    async fn url(&self, arn: &str) -> Result<String, String> {
        if let Some(url) = self.urls.lock().await.get(arn) {
            return Ok(url.clone());
        }
        // arn:aws:sqs:<region>:<account>:<name>
        let parts: Vec<&str> = arn.split(':').collect();
        let (account, name) = match parts.as_slice() {
            [_, _, "sqs", _, account, name] => (*account, *name),
            _ => return Err(format!("{arn:?} is not an SQS queue ARN")),
        };
        let out = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| format!("GetQueueUrl for {arn}: {}", DisplayErrorContext(&e)))?;
        let url = out
            .queue_url()
            .ok_or_else(|| format!("GetQueueUrl for {arn} returned no URL"))?
            .to_string();
        self.urls.lock().await.insert(arn.to_string(), url.clone());
        Ok(url)
    }
}

impl Requeue for SqsRequeue {
    fn send<'a>(
        &'a self,
        queue_arn: &'a str,
        body: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let url = self.url(queue_arn).await?;
            self.client
                .send_message()
                .queue_url(url)
                .message_body(body)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("SendMessage to {queue_arn}: {}", DisplayErrorContext(&e)))
        })
    }
}
