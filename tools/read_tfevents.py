#!/usr/bin/env python3
"""Reads TensorBoard event files back, independently of gan.c's writer: checks every record's
framing and CRCs, decodes every Event with the Python protobuf library, and decodes the PNGs.

    python3 tools/read_tfevents.py RUN_DIR|EVENTS_FILE...    # one line per event

tests/cli/test_tensorboard.sh imports it. It needs only Debian's python3-protobuf: the message
definitions (the fields of TensorBoard's event.proto, summary.proto, tensor.proto and
tensor_shape.proto that gan.c writes, with their real numbers) are built here at run time from
descriptor_pb2, so neither protoc nor TensorFlow is needed. Enums are declared as int32 (the
same wire encoding). Every decoded Event is serialized again and must give back the record's
bytes: nothing was left undecoded and nothing was encoded differently from protobuf's own
serializer.
"""
import os
import struct
import sys
import zlib

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto
MESSAGES = {
    # name: [(field name, number, type, repeated, message type)]
    "Event": [("wall_time", 1, F.TYPE_DOUBLE, False, None), ("step", 2, F.TYPE_INT64, False, None),
              ("file_version", 3, F.TYPE_STRING, False, None), ("graph_def", 4, F.TYPE_BYTES, False, None),
              ("summary", 5, F.TYPE_MESSAGE, False, "Summary"),
              ("session_log", 7, F.TYPE_MESSAGE, False, "SessionLog")],
    "SessionLog": [("status", 1, F.TYPE_INT32, False, None), ("checkpoint_path", 2, F.TYPE_STRING, False, None),
                   ("msg", 3, F.TYPE_STRING, False, None)],
    "Summary": [("value", 1, F.TYPE_MESSAGE, True, "SummaryValue")],
    "SummaryValue": [("tag", 1, F.TYPE_STRING, False, None), ("simple_value", 2, F.TYPE_FLOAT, False, None),
                     ("image", 4, F.TYPE_MESSAGE, False, "SummaryImage"),
                     ("node_name", 7, F.TYPE_STRING, False, None),
                     ("tensor", 8, F.TYPE_MESSAGE, False, "TensorProto"),
                     ("metadata", 9, F.TYPE_MESSAGE, False, "SummaryMetadata")],
    "SummaryImage": [("height", 1, F.TYPE_INT32, False, None), ("width", 2, F.TYPE_INT32, False, None),
                     ("colorspace", 3, F.TYPE_INT32, False, None),
                     ("encoded_image_string", 4, F.TYPE_BYTES, False, None)],
    "SummaryMetadata": [("plugin_data", 1, F.TYPE_MESSAGE, False, "PluginData"),
                        ("display_name", 2, F.TYPE_STRING, False, None),
                        ("summary_description", 3, F.TYPE_STRING, False, None),
                        ("data_class", 4, F.TYPE_INT32, False, None)],
    "PluginData": [("plugin_name", 1, F.TYPE_STRING, False, None), ("content", 2, F.TYPE_BYTES, False, None)],
    "TensorProto": [("dtype", 1, F.TYPE_INT32, False, None),
                    ("tensor_shape", 2, F.TYPE_MESSAGE, False, "TensorShapeProto"),
                    ("string_val", 8, F.TYPE_BYTES, True, None)],
    "TensorShapeProto": [("dim", 2, F.TYPE_MESSAGE, True, "TensorShapeDim"),
                         ("unknown_rank", 3, F.TYPE_BOOL, False, None)],
    "TensorShapeDim": [("size", 1, F.TYPE_INT64, False, None), ("name", 2, F.TYPE_STRING, False, None)],
}
PACKAGE = "gan_tfevents_reader"


def _classes():
    # proto2 (no syntax given): every field has presence, so HasField tells what was written.
    fdp = descriptor_pb2.FileDescriptorProto(name=PACKAGE + ".proto", package=PACKAGE)
    for name, fields in MESSAGES.items():
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, repeated, mtype in fields:
            f = m.field.add(name=fname, number=number, type=ftype,
                            label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
            if mtype:
                f.type_name = "." + PACKAGE + "." + mtype
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    out = {}
    for name in MESSAGES:
        d = pool.FindMessageTypeByName(PACKAGE + "." + name)
        if hasattr(message_factory, "GetMessageClass"):
            out[name] = message_factory.GetMessageClass(d)
        else:
            out[name] = message_factory.MessageFactory(pool).GetPrototype(d)
    return out


PB = _classes()
Event = PB["Event"]


def crc32c(data):
    """CRC-32C (Castagnoli), bit by bit."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class BadFile(Exception):
    pass


def records(path):
    """Every record's data; raises BadFile naming the offset at a short or damaged record."""
    with open(path, "rb") as f:
        blob = f.read()
    pos = 0
    while pos < len(blob):
        if len(blob) - pos < 12:
            raise BadFile(f"{path}: offset {pos}: a record header cut short ({len(blob) - pos} bytes)")
        head = blob[pos:pos + 8]
        (n,) = struct.unpack("<Q", head)
        (hcrc,) = struct.unpack("<I", blob[pos + 8:pos + 12])
        if hcrc != masked_crc(head):
            raise BadFile(f"{path}: offset {pos}: length CRC {hcrc:#x}, expected {masked_crc(head):#x}")
        if len(blob) - pos < 12 + n + 4:
            raise BadFile(f"{path}: offset {pos}: a record of {n} bytes cut short")
        data = blob[pos + 12:pos + 12 + n]
        (dcrc,) = struct.unpack("<I", blob[pos + 12 + n:pos + 16 + n])
        if dcrc != masked_crc(data):
            raise BadFile(f"{path}: offset {pos}: data CRC {dcrc:#x}, expected {masked_crc(data):#x}")
        yield data
        pos += 12 + n + 4


def events(path):
    """The decoded Events of one file, each checked to serialize back to its record's bytes."""
    for i, data in enumerate(records(path)):
        ev = Event()
        ev.ParseFromString(data)
        if ev.SerializeToString() != data:
            raise BadFile(f"{path}: record {i}: decodes to an Event that serializes differently")
        yield ev


def event_files(run_dir):
    """A run directory's event files in the order TensorBoard reads them: by name."""
    return sorted(os.path.join(run_dir, n) for n in os.listdir(run_dir) if "tfevents" in n)


def decode_png(data):
    """(width, height, channels, pixel bytes) of an 8-bit grey or RGB PNG, non-interlaced."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise BadFile("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if crc != zlib.crc32(kind + body):
            raise BadFile(f"PNG chunk {kind!r}: bad CRC")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (0, 2) or interlace:
        raise BadFile(f"PNG: unsupported depth {depth}, colour type {ctype}, interlace {interlace}")
    ch = 1 if ctype == 0 else 3
    raw, stride = zlib.decompress(idat), w * ch
    out, prev = bytearray(), bytearray(stride)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b = prev[x]
            c = prev[x - ch] if x >= ch else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
            elif ftype != 0:
                raise BadFile(f"PNG: filter type {ftype}")
        out += line
        prev = line
    return w, h, ch, bytes(out)


def describe(ev):
    head = f"step {ev.step} wall_time {ev.wall_time:.3f}"
    if ev.HasField("file_version"):
        return f"{head} file_version {ev.file_version}"
    if ev.HasField("session_log"):
        return f"{head} session_log status {ev.session_log.status}"
    parts = []
    for v in ev.summary.value:
        if v.HasField("simple_value"):
            parts.append(f"{v.tag}={v.simple_value:.6g}")
        elif v.HasField("image"):
            parts.append(f"{v.tag}=image {v.image.width}x{v.image.height}x{v.image.colorspace} "
                         f"({len(v.image.encoded_image_string)} bytes of PNG)")
        elif v.HasField("tensor"):
            text = b"".join(v.tensor.string_val)
            parts.append(f"{v.tag}=text ({v.metadata.plugin_data.plugin_name}, {len(text)} bytes)")
    return f"{head} " + ", ".join(parts)


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    paths = []
    for a in argv:
        paths += event_files(a) if os.path.isdir(a) else [a]
    for p in paths:
        print(p)
        try:
            for ev in events(p):
                print("  " + describe(ev))
        except BadFile as e:
            print(f"read_tfevents: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
