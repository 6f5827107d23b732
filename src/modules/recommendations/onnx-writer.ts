/**
 * Writes an ONNX model (onnx.proto3, IR version 8, opset 17) without a protobuf library: the
 * handful of messages a feed-forward ranker needs, encoded by hand in protobuf's wire format
 * (varints, length-delimited fields, packed floats). Field numbers are those of onnx/onnx.proto.
 */

class Writer {
  private readonly chunks: Buffer[] = [];

  private varint(value: number | bigint): void {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n;
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.chunks.push(Buffer.from(bytes));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  bytes(field: number, value: Buffer): this {
    this.tag(field, 2);
    this.varint(value.length);
    this.chunks.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, build: (writer: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  values: Float32Array;
}

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
}

export interface OnnxValue {
  name: string;
  /** A number is a fixed size; a string names a symbolic dimension (the batch). */
  shape: (number | string)[];
}

export interface OnnxModel {
  graphName: string;
  producer: string;
  modelVersion: number;
  docString: string;
  metadata: Record<string, string>;
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  initializers: OnnxTensor[];
  nodes: OnnxNode[];
}

const FLOAT = 1;
const IR_VERSION = 8;
const OPSET = 17;

function valueInfo(writer: Writer, value: OnnxValue): void {
  writer.string(1, value.name); // ValueInfoProto.name
  writer.message(2, (type) =>
    // TypeProto.tensor_type
    type.message(1, (tensor) => {
      tensor.int(1, FLOAT); // elem_type
      tensor.message(2, (shape) => {
        for (const dim of value.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

export function encodeOnnx(model: OnnxModel): Buffer {
  const root = new Writer();
  root.int(1, IR_VERSION); // ModelProto.ir_version
  root.string(2, model.producer); // producer_name
  root.int(5, model.modelVersion); // model_version
  root.string(6, model.docString); // doc_string
  root.message(7, (graph) => {
    for (const node of model.nodes) {
      graph.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, node.name);
        n.string(4, node.opType);
      });
    }
    graph.string(2, model.graphName);
    for (const tensor of model.initializers) {
      graph.message(5, (t) => {
        for (const dim of tensor.dims) t.int(1, dim);
        t.int(2, FLOAT);
        t.string(8, tensor.name);
        // raw_data: little-endian IEEE 754, as ONNX requires.
        const raw = Buffer.alloc(tensor.values.length * 4);
        tensor.values.forEach((value, index) => raw.writeFloatLE(value, index * 4));
        t.bytes(9, raw);
      });
    }
    for (const input of model.inputs) graph.message(11, (v) => valueInfo(v, input));
    for (const output of model.outputs) graph.message(12, (v) => valueInfo(v, output));
  });
  root.message(8, (opset) => opset.string(1, '').int(2, OPSET)); // opset_import
  for (const [key, value] of Object.entries(model.metadata)) {
    root.message(14, (entry) => entry.string(1, key).string(2, value)); // metadata_props
  }
  return root.finish();
}
