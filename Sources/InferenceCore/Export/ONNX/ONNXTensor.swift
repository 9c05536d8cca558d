import Foundation

/// Constant tensors and the element types of ONNX, as the generated protobuf messages spell them.
enum ONNXTensor {
    static func doubles(_ values: [Double], shape: [Int]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.doubleData = values
        return tensor
    }

    static func int64s(_ values: [Int64], shape: [Int]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.int64Data = values
        return tensor
    }

    static func strings(_ values: [String], shape: [Int]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.dataType = Int32(Onnx_TensorProto.DataType.string.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.stringData = values.map { Data($0.utf8) }
        return tensor
    }

    static func uint8s(_ values: [UInt8], shape: [Int]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.dataType = Int32(Onnx_TensorProto.DataType.uint8.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.rawData = Data(values)
        return tensor
    }

    /// The value info of a tensor input or output: its element type and shape, a dimension
    /// named `N` for the batch.
    static func valueInfo(_ name: String, _ type: Onnx_TensorProto.DataType, shape: [Int?], doc: String = "") -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.docString = doc
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(type.rawValue)
        tensorType.shape.dim = shape.map { size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if let size { dimension.dimValue = Int64(size) } else { dimension.dimParam = "N" }
            return dimension
        }
        info.type.tensorType = tensorType
        return info
    }
}

/// Node attributes.
enum ONNXAttribute {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    static func tensor(_ name: String, _ value: Onnx_TensorProto) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .tensor
        attribute.t = value
        return attribute
    }

    /// `Cast`'s target type.
    static func to(_ type: Onnx_TensorProto.DataType) -> Onnx_AttributeProto {
        int("to", type.rawValue)
    }
}
