//! How events become Firehose records: one event a record, several
//! newline-delimited events a record (`RECORD_PACKING=ndjson`), or several
//! events compressed into one complete gzip or zstd frame a record
//! (`RECORD_COMPRESSION`), so that the objects Firehose writes to S3 are
//! valid multi-member `.gz` / `.zst` files.
//!
//! [`FrameWriter`] is the compressing packer: it takes whole records
//! (newline-terminated events) and closes a frame before the next event
//! could take it over the record limit, measured after compression. It does
//! not know messages, objects or the sink; the emitter in `process` feeds it
//! and hands its frames over.

use std::io::{self, Write};

use super::batcher::PackLimits;
use super::MAX_RECORD_BYTES;

/// Firehose's dynamic partitioning splits packed records of up to this many
/// events; the default of `PACK_MAX_EVENTS`.
pub const DEFAULT_PACK_MAX_EVENTS: usize = 500;

/// The compression of a packed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordCompression {
    Gzip,
    Zstd,
}

impl RecordCompression {
    pub fn name(self) -> &'static str {
        match self {
            RecordCompression::Gzip => "gzip",
            RecordCompression::Zstd => "zstd",
        }
    }
}

/// How events become Firehose records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// One event per record (the default): what OpenSearch, Splunk and HTTP
    /// endpoint destinations expect.
    OnePerRecord,
    /// Consecutive events of one object, newline-delimited, in records of up
    /// to `max_events` events and the record limit.
    Ndjson { max_events: usize },
    /// Consecutive events of one object, newline-delimited and compressed:
    /// each record is one complete frame, as large as fits the record limit
    /// after compression.
    Compressed(RecordCompression),
}

impl Packing {
    /// How the batcher cuts plain events into records (compressed records
    /// arrive as finished frames).
    pub fn event_limits(self) -> PackLimits {
        match self {
            Packing::OnePerRecord | Packing::Compressed(_) => PackLimits::ONE_PER_RECORD,
            Packing::Ndjson { max_events } => PackLimits {
                max_bytes: MAX_RECORD_BYTES,
                max_events,
            },
        }
    }

    /// The compression of records, if any.
    pub fn compression(self) -> Option<RecordCompression> {
        match self {
            Packing::Compressed(c) => Some(c),
            _ => None,
        }
    }
}

/// Flush the encoder after this much input (at most; a sixteenth of the
/// limit for small limits), so that the compressed size of the frame so far
/// is known to within this many bytes and frames close near the limit.
const FLUSH_EVERY: usize = 64 * 1024;

/// Bytes a frame needs besides its compressed blocks (gzip header and
/// trailer, a zstd frame header and checksum, the final block), with room.
const FRAME_OVERHEAD: usize = 64;

/// zstd level: on our records level 1 compresses about twice as fast as
/// zstd's default 3 and as well or better (`zstd -b1` / `-b3` on CloudTrail
/// and VPC records: 1,060 vs 533 MB/s, ratio 8.3 vs 7.8; 1,008 vs 585 MB/s,
/// ratio 11.7 vs 10.5), and uses a smaller window (512 KiB, so less memory
/// per object in flight).
const ZSTD_LEVEL: i32 = 1;

/// gzip level: the fastest level keeps up with parsing; higher levels cost
/// far more time than they save bytes on JSON (see BENCHMARKS.md).
const GZIP_LEVEL: u32 = 1;

enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Encoder {
    fn new(compression: RecordCompression, buf: Vec<u8>) -> io::Result<Self> {
        Ok(match compression {
            RecordCompression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                buf,
                flate2::Compression::new(GZIP_LEVEL),
            )),
            RecordCompression::Zstd => {
                let mut enc = zstd::stream::write::Encoder::new(buf, ZSTD_LEVEL)?;
                enc.include_checksum(true)?;
                Encoder::Zstd(enc)
            }
        })
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Encoder::Gzip(e) => e,
            Encoder::Zstd(e) => e,
        }
    }

    fn output_len(&self) -> usize {
        match self {
            Encoder::Gzip(e) => e.get_ref().len(),
            Encoder::Zstd(e) => e.get_ref().len(),
        }
    }

    fn finish(self) -> io::Result<Vec<u8>> {
        match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

/// A frame closed by [`FrameWriter`]: one complete compressed member.
#[derive(Debug)]
pub struct Frame {
    pub data: Vec<u8>,
    /// Events (lines) in the frame.
    pub events: u32,
}

/// Compresses consecutive records into frames of at most `limit` bytes.
pub struct FrameWriter {
    compression: RecordCompression,
    limit: usize,
    encoder: Option<Encoder>,
    events: u32,
    /// Input written since the encoder's output was last brought up to date.
    unflushed: usize,
    flush_every: usize,
}

impl FrameWriter {
    /// `limit`: the largest frame (the Firehose record limit).
    pub fn new(compression: RecordCompression, limit: usize) -> Self {
        FrameWriter {
            compression,
            limit,
            encoder: None,
            events: 0,
            unflushed: 0,
            flush_every: (limit / 16).clamp(1024, FLUSH_EVERY),
        }
    }

    /// Adds one record (a newline-terminated event). Returns the frame it
    /// closed first, if the record could have taken the open frame over the
    /// limit. A record too large for a frame of its own still gets one (the
    /// record writer keeps records within the limit; compression rarely
    /// grows them).
    pub fn push(&mut self, record: &[u8]) -> io::Result<Option<Frame>> {
        let closed = if self.events > 0 && self.may_overflow(record.len()) {
            self.finish()?
        } else {
            None
        };
        let encoder = match &mut self.encoder {
            Some(e) => e,
            // Room for a whole frame at once: growing by doubling would
            // reserve twice the limit. Pages not written are not resident.
            None => self.encoder.insert(Encoder::new(
                self.compression,
                Vec::with_capacity(self.limit + self.flush_every + FRAME_OVERHEAD),
            )?),
        };
        encoder.writer().write_all(record)?;
        self.events += 1;
        self.unflushed += record.len();
        if self.unflushed >= self.flush_every {
            encoder.writer().flush()?;
            self.unflushed = 0;
        }
        Ok(closed)
    }

    /// Whether `len` more bytes could take the frame over the limit: the
    /// output so far plus everything not yet flushed counted as if it did
    /// not compress at all.
    fn may_overflow(&self, len: usize) -> bool {
        let out = self.encoder.as_ref().map_or(0, Encoder::output_len);
        out + self.unflushed + len + FRAME_OVERHEAD > self.limit
    }

    /// Events in the open frame.
    pub fn events(&self) -> u32 {
        self.events
    }

    /// Closes the open frame, if it holds any event.
    pub fn finish(&mut self) -> io::Result<Option<Frame>> {
        let events = std::mem::take(&mut self.events);
        self.unflushed = 0;
        match self.encoder.take() {
            Some(e) if events > 0 => Ok(Some(Frame {
                data: e.finish()?,
                events,
            })),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn decode(c: RecordCompression, frame: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match c {
            RecordCompression::Gzip => {
                flate2::read::GzDecoder::new(frame)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            RecordCompression::Zstd => {
                zstd::stream::read::Decoder::new(frame)
                    .unwrap()
                    .single_frame()
                    .read_to_end(&mut out)
                    .unwrap();
            }
        }
        out
    }

    fn events(n: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n)
            .map(|i| {
                // Partly random so that frames do not compress to nothing.
                let noise: String = (0..rng.usize(0..300)).map(|_| rng.alphanumeric()).collect();
                format!("{{\"event\":{{\"sequence\":{i}}},\"message\":\"{noise}\"}}\n").into_bytes()
            })
            .collect()
    }

    fn pack(c: RecordCompression, limit: usize, evs: &[Vec<u8>]) -> Vec<Frame> {
        let mut w = FrameWriter::new(c, limit);
        let mut frames = Vec::new();
        for e in evs {
            frames.extend(w.push(e).unwrap());
        }
        frames.extend(w.finish().unwrap());
        frames
    }

    #[test]
    fn frames_hold_every_event_once_in_order_and_stay_within_the_limit() {
        for c in [RecordCompression::Gzip, RecordCompression::Zstd] {
            for limit in [2_000, 20_000, 1_024_000] {
                let evs = events(3_000, limit as u64);
                let frames = pack(c, limit, &evs);
                let mut all = Vec::new();
                for f in &frames {
                    assert!(f.data.len() <= limit, "{c:?} {limit}: {}", f.data.len());
                    let text = decode(c, &f.data);
                    assert_eq!(
                        text.iter().filter(|&&b| b == b'\n').count(),
                        f.events as usize
                    );
                    all.extend(text);
                }
                assert_eq!(all, evs.concat(), "{c:?} {limit}");
                assert_eq!(
                    frames.iter().map(|f| f.events as usize).sum::<usize>(),
                    evs.len()
                );
            }
        }
    }

    #[test]
    fn frames_fill_most_of_the_limit() {
        for c in [RecordCompression::Gzip, RecordCompression::Zstd] {
            let limit = 100_000;
            let frames = pack(c, limit, &events(20_000, 7));
            assert!(frames.len() > 2, "{c:?}");
            for f in &frames[..frames.len() - 1] {
                assert!(
                    f.data.len() > limit * 3 / 4,
                    "{c:?}: a frame of {} bytes closed early",
                    f.data.len()
                );
            }
        }
    }

    #[test]
    fn the_frames_concatenated_are_one_valid_multi_member_file() {
        let evs = events(2_000, 3);
        let frames = pack(RecordCompression::Gzip, 10_000, &evs);
        assert!(frames.len() > 1);
        let file: Vec<u8> = frames.iter().flat_map(|f| f.data.clone()).collect();
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&file[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, evs.concat());

        let frames = pack(RecordCompression::Zstd, 10_000, &evs);
        let file: Vec<u8> = frames.iter().flat_map(|f| f.data.clone()).collect();
        let out = zstd::stream::decode_all(&file[..]).unwrap();
        assert_eq!(out, evs.concat());
    }

    #[test]
    fn an_event_larger_than_the_limit_gets_a_frame_of_its_own() {
        // Random letters: they do not compress below the limit.
        let mut rng = fastrand::Rng::with_seed(5);
        let noise: Vec<u8> = (0..5_000).map(|_| rng.alphanumeric() as u8).collect();
        let big = [noise, b"\n".to_vec()].concat();
        let evs = vec![b"a\n".to_vec(), big.clone(), b"b\n".to_vec()];
        let frames = pack(RecordCompression::Zstd, 1_000, &evs);
        let counts: Vec<u32> = frames.iter().map(|f| f.events).collect();
        assert_eq!(counts, vec![1, 1, 1]);
        assert_eq!(decode(RecordCompression::Zstd, &frames[1].data), big);
    }

    #[test]
    fn finishing_an_empty_writer_makes_no_frame() {
        let mut w = FrameWriter::new(RecordCompression::Gzip, 1_000);
        assert!(w.finish().unwrap().is_none());
    }

    mod properties {
        use super::super::*;
        use super::decode;
        use crate::sink::batcher::{Chunk, PackLimits};
        use bytes::Bytes;
        use proptest::prelude::*;

        fn lines() -> impl Strategy<Value = Vec<Vec<u8>>> {
            prop::collection::vec("[ -~]{0,300}", 1..200).prop_map(|v| {
                v.into_iter()
                    .map(|l| format!("{{\"m\":{}}}\n", serde_json::Value::String(l)).into_bytes())
                    .collect()
            })
        }

        /// Splits a record into its lines, each with its newline.
        fn split(record: &[u8]) -> Vec<Vec<u8>> {
            record
                .split_inclusive(|b| *b == b'\n')
                .map(<[u8]>::to_vec)
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn every_packing_mode_splits_into_exactly_its_events(
                evs in lines(),
                max_bytes in 0usize..4_000,
                max_events in 1usize..50,
                frame_limit in 200usize..20_000,
            ) {
                let mut data = Vec::new();
                let mut ends = Vec::new();
                for e in &evs {
                    data.extend_from_slice(e);
                    ends.push(data.len());
                }
                let chunk = Chunk::events(0, 0, 7, Bytes::from(data), ends);
                // Plain: one event per record, and packed.
                for limits in [PackLimits::ONE_PER_RECORD, PackLimits { max_bytes, max_events }] {
                    let mut next = 7u64;
                    let mut seen = Vec::new();
                    for (origin, record) in chunk.packed(limits) {
                        let parts = split(&record);
                        prop_assert_eq!(origin.ordinal, next);
                        prop_assert_eq!(parts.len(), origin.events as usize);
                        prop_assert!(parts.len() <= limits.max_events);
                        prop_assert!(parts.len() == 1 || record.len() <= limits.max_bytes);
                        next += u64::from(origin.events);
                        seen.extend(parts);
                    }
                    prop_assert_eq!(&seen, &evs);
                }
                // Compressed: each frame decodes to exactly its events.
                for c in [RecordCompression::Gzip, RecordCompression::Zstd] {
                    let mut w = FrameWriter::new(c, frame_limit);
                    let mut frames = Vec::new();
                    for e in &evs {
                        frames.extend(w.push(e).unwrap());
                    }
                    frames.extend(w.finish().unwrap());
                    let mut seen = Vec::new();
                    for f in frames {
                        let parts = split(&decode(c, &f.data));
                        prop_assert_eq!(parts.len(), f.events as usize);
                        prop_assert!(f.events == 1 || f.data.len() <= frame_limit);
                        seen.extend(parts);
                    }
                    prop_assert_eq!(&seen, &evs);
                }
            }
        }
    }
}
