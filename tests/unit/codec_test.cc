#include "common/codec.h"

#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "common/value.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using protocol::DType;

protocol::Request SampleInfer() {
  protocol::Request r;
  r.id = "req-1";
  r.op = protocol::Op::kInfer;
  r.model = "mlp";
  r.timeout_ms = 250;
  r.inputs["x"] = testing::Floats({2, 2}, {1, 2, 3, 4});
  r.inputs["prompt"] = {DType::kString, {}, "hello"};
  r.inputs["blob"] = {DType::kBytes, {}, std::string("\x00\x01\xff", 3)};
  r.inputs["mask"] = {DType::kBool, {3}, std::string("\x01\x00\x01", 3)};
  return r;
}

TEST(Codec, RequestRoundTripsEveryField) {
  const protocol::Request r = SampleInfer();
  auto decoded = codec::DecodeRequest(codec::EncodeRequest(r));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, r);
}

// Every value of an enum class whose values count up from 0 to `last`.
template <typename E>
std::vector<E> Every(E last) {
  std::vector<E> all;
  for (int i = 0; i <= static_cast<int>(last); ++i) all.push_back(static_cast<E>(i));
  return all;
}

TEST(Codec, EveryOpRoundTripsWithTheFieldsItTakes) {
  const auto ops = Every(protocol::Op::kReload);
  ASSERT_EQ(ops.size(), 10u);
  for (protocol::Op op : ops) {
    SCOPED_TRACE(std::string(protocol::OpName(op)));
    EXPECT_EQ(protocol::ParseOp(protocol::OpName(op)), op);
    protocol::Request r = op == protocol::Op::kInfer ? SampleInfer() : protocol::Request{};
    r.id = "x";
    r.op = op;
    if (protocol::NamesWorker(op)) r.worker = "mlp-0";
    if (protocol::IsModelAdmin(op)) r.model = "mlp";
    if (op == protocol::Op::kRestart) r.force = true;
    if (op == protocol::Op::kScale) r.replicas = 3;
    auto decoded = codec::DecodeRequest(codec::EncodeRequest(r));
    ASSERT_OK(decoded);
    EXPECT_EQ(*decoded, r);
  }
}

TEST(Codec, EveryStateNameRoundTrips) {
  for (auto s : Every(protocol::ModelState::kFailed)) {
    EXPECT_EQ(protocol::ParseModelState(protocol::ModelStateName(s)), s);
  }
  for (auto s : Every(protocol::ModelStatus::kEvicted)) {
    EXPECT_EQ(protocol::ParseModelStatus(protocol::ModelStatusName(s)), s);
  }
  for (auto s : Every(protocol::WorkerStatus::kEvicted)) {
    EXPECT_EQ(protocol::ParseWorkerStatus(protocol::WorkerStatusName(s)), s);
  }
  EXPECT_EQ(protocol::ModelStateName(protocol::ModelState::kIdle), "idle");
  EXPECT_EQ(protocol::ParseModelStatus("no-such-state"), std::nullopt);
}

TEST(Codec, EveryDtypeRoundTripsInATensor) {
  for (DType d :
       {DType::kFloat32, DType::kFloat16, DType::kBFloat16, DType::kFloat64, DType::kInt64,
        DType::kInt32, DType::kInt16, DType::kInt8, DType::kUInt8, DType::kBool}) {
    protocol::Request r;
    r.id = "t";
    r.op = protocol::Op::kInfer;
    r.model = "m";
    r.inputs["v"] = {d, {2, 3}, std::string(6 * protocol::DTypeSize(d), '\x01')};
    auto decoded = codec::DecodeRequest(codec::EncodeRequest(r));
    ASSERT_OK(decoded);
    EXPECT_EQ(*decoded, r) << protocol::DTypeName(d);
  }
}

TEST(Codec, AuthHeaderRoundTrips) {
  protocol::AuthHeader h{"key-7", 1764000000123ULL, std::string(16, '\x5a')};
  auto decoded = codec::DecodeAuthHeader(codec::EncodeAuthHeader(h));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, h);
}

TEST(Codec, AuthHeaderWithShortNonceIsRejected) {
  protocol::AuthHeader h{"k", 1, "abc"};
  EXPECT_EQ(codec::DecodeAuthHeader(codec::EncodeAuthHeader(h)).status().code(),
            ErrorCode::kInvalidRequest);
}

TEST(Codec, ErrorReplyRoundTripsWithCodeAndRetryable) {
  auto reply = protocol::ErrorReply("r9", {ErrorCode::kOverloaded, "queue full"});
  auto decoded = codec::DecodeReply(codec::EncodeReply(reply));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, reply);
  EXPECT_TRUE(decoded->retryable);
  EXPECT_EQ(decoded->status.code(), ErrorCode::kOverloaded);
}

TEST(Codec, ReplyWithoutIdRoundTrips) {
  auto reply = protocol::ErrorReply(std::nullopt, InvalidRequest("garbage"));
  auto decoded = codec::DecodeReply(codec::EncodeReply(reply));
  ASSERT_OK(decoded);
  EXPECT_FALSE(decoded->id.has_value());
}

TEST(Codec, InferReplyRoundTrips) {
  protocol::Reply reply;
  reply.id = "a";
  reply.outputs["y"] = testing::Floats({3}, {1, 2, 3});
  reply.outputs["label"] = {DType::kString, {}, "cat"};
  auto decoded = codec::DecodeReply(codec::EncodeReply(reply));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, reply);
}

TEST(Codec, InferReplyFromViewsIsTheSameBytesAsFromTensors) {
  protocol::Reply reply;
  reply.id = "a";
  reply.outputs["y"] = testing::Floats({3}, {1, 2, 3});
  reply.outputs["label"] = {DType::kString, {}, "cat"};
  EXPECT_EQ(codec::EncodeInferReply("a", protocol::ViewsOf(reply.outputs)),
            codec::EncodeReply(reply));
}

TEST(Codec, RequestViewPointsIntoTheFrameAndMatchesTheCopyingDecoder) {
  protocol::Request request;
  request.id = "v";
  request.op = protocol::Op::kInfer;
  request.model = "m";
  request.inputs["x"] = testing::Floats({2, 2}, {1, 2, 3, 4});
  const std::string frame = codec::EncodeRequest(request);
  auto view = codec::DecodeRequestView(frame);
  ASSERT_OK(view);
  const std::string_view data = view->inputs.at("x").data;
  // No copy: the tensor bytes are those of the frame.
  EXPECT_GE(data.data(), frame.data());
  EXPECT_LE(data.data() + data.size(), frame.data() + frame.size());
  EXPECT_TRUE(view->request.inputs.empty());
  view->request.inputs["x"] = protocol::Copy(view->inputs.at("x"));
  EXPECT_EQ(view->request, *codec::DecodeRequest(frame));
}

TEST(Codec, ModelsAndStatusRepliesRoundTrip) {
  protocol::Reply reply;
  reply.id = "m";
  reply.models.push_back({"mlp",
                          protocol::ModelStatus::kLoadFailed,
                          2,
                          1,
                          3,
                          64,
                          "",
                          900ULL << 20,
                          {{"x", DType::kFloat32, {{-1, 512}}}},
                          {{"y", DType::kFloat32, std::nullopt}}});
  reply.workers.push_back({"mlp-0", 4242, "mlp", "cuda:0", protocol::WorkerStatus::kBackoff, 1, 16,
                           17, 2, "killed by signal 9 (SIGKILL)", 165u << 20, 3ULL << 30});
  reply.devices.push_back({"cuda:0", 2, 3, 5ULL << 30, 70ULL << 30});
  protocol::Limits limits;
  limits.max_message_bytes = 1 << 20;
  limits.max_items = 77;
  reply.broker = protocol::BrokerInfo{"0.1.0", 1234, 1'790'000'000'000, limits};
  auto decoded = codec::DecodeReply(codec::EncodeReply(reply));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, reply);
}

TEST(Codec, WorkerMessagesRoundTrip) {
  protocol::WorkerHello hello{1, "mlp-1", "mlp", "cuda:1", 4, 99};
  auto h = codec::DecodeHello(codec::EncodeHello(hello));
  ASSERT_OK(h);
  EXPECT_EQ(*h, hello);

  protocol::WorkerState state{protocol::ModelState::kFailed, "bad file", 0};
  auto s = codec::DecodeWorkerState(codec::EncodeWorkerState(state));
  ASSERT_OK(s);
  EXPECT_EQ(*s, state);

  protocol::WorkerMemory memory{165u << 20, 1ULL << 30, 3ULL << 30};
  auto m = codec::DecodeWorkerMemory(codec::EncodeWorkerMemory(memory));
  ASSERT_OK(m);
  EXPECT_EQ(*m, memory);

  auto c = codec::DecodeWorkerCredit(codec::EncodeWorkerCredit({16}));
  ASSERT_OK(c);
  EXPECT_EQ(c->capacity, 16u);
  EXPECT_EQ(codec::DecodeWorkerCredit(codec::EncodeWorkerCredit({0})).status().code(),
            ErrorCode::kInvalidRequest);

  protocol::JobHeader job{.ticket = 0xfffffffffffULL, .budget_ms = 1500, .queued = 12};
  auto j = codec::DecodeJobHeader(codec::EncodeJobHeader(job));
  ASSERT_OK(j);
  EXPECT_EQ(*j, job);
  protocol::JobHeader reply_job{.ticket = 7, .code = "out_of_memory"};
  j = codec::DecodeJobHeader(codec::EncodeJobHeader(reply_job));
  ASSERT_OK(j);
  EXPECT_EQ(*j, reply_job);
  protocol::JobHeader partial_job{.ticket = 8, .code = "ok", .more = true};
  j = codec::DecodeJobHeader(codec::EncodeJobHeader(partial_job));
  ASSERT_OK(j);
  EXPECT_EQ(*j, partial_job);
}

protocol::Tensor Value(const std::string& json) { return {DType::kValue, {}, *JsonToValue(json)}; }

TEST(Codec, StructuredValuesAndTheStreamFlagRoundTrip) {
  protocol::Request r;
  r.id = "s";
  r.op = protocol::Op::kInfer;
  r.model = "tts";
  r.stream = true;
  r.inputs["text"] = {DType::kString, {}, "hi"};
  r.inputs["rate"] = Value("1.5");
  r.inputs["opts"] = Value(R"({"words": [1, -2, 2.5, true, null, "x"], "nested": {"a": []}})");
  auto decoded = codec::DecodeRequest(codec::EncodeRequest(r));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, r);
  EXPECT_EQ(ReadNumber(decoded->inputs.at("rate").data), 1.5);

  protocol::Reply partial;
  partial.id = "s";
  partial.more = true;
  partial.outputs["pcm"] = {DType::kBytes, {}, std::string("\x01\x00\xff\x7f", 4)};
  partial.outputs["codes"] = Value(R"([{"text": "Grüße ✓", "box": [1, 2, 3, 4]}])");
  auto reply = codec::DecodeReply(codec::EncodeReply(partial));
  ASSERT_OK(reply);
  EXPECT_EQ(*reply, partial);
  EXPECT_EQ(codec::EncodeInferReply("s", protocol::ViewsOf(partial.outputs), /*more=*/true),
            codec::EncodeReply(partial));
}

TEST(Codec, AValueTravelsAsItsOwnMsgpackInsideADtypeMap) {
  protocol::Reply reply;
  reply.id = "v";
  reply.outputs["n"] = Value("7");
  const std::string bytes = codec::EncodeReply(reply);
  // ... "outputs": {"n": {"dtype": "value", "data": 7}} ...
  const std::string expected = std::string(
      "\xa1n\x82\xa5"
      "dtype\xa5value\xa4"
      "data\x07");
  EXPECT_NE(bytes.find(expected), std::string::npos);
  // A value map without data, and a value where a tensor map is needed, are named.
  auto no_data =
      codec::DecodeReply(std::string("\x84\xa1v\x01\xa2id\xa1v\xa2ok\xc3\xa7outputs"
                                     "\x81\xa1n\x81\xa5"
                                     "dtype\xa5value"));
  ASSERT_FALSE(no_data.ok());
  EXPECT_NE(no_data.status().message().find("outputs.n.data"), std::string::npos)
      << no_data.status().message();
}

TEST(Codec, OptionalSpecsRoundTripInTheModelsReply) {
  protocol::Reply reply;
  reply.id = "m";
  protocol::ModelInfo info;
  info.name = "ocr";
  info.inputs = {{"image", DType::kBytes, std::nullopt},
                 {"language", DType::kString, std::nullopt}};
  info.inputs[1].optional = true;
  info.outputs = {{"words", DType::kValue, std::nullopt}};
  reply.models.push_back(info);
  auto decoded = codec::DecodeReply(codec::EncodeReply(reply));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, reply);
  EXPECT_TRUE(decoded->models[0].inputs[1].optional);
}

TEST(Codec, GarbageBytesAreInvalidRequest) {
  for (std::string bad : {std::string("\xc1"), std::string("\x92\x01"), std::string(""),
                          std::string("\x81\xa2id"), std::string("not msgpack at all")}) {
    auto r = codec::DecodeRequest(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidRequest);
  }
}

TEST(Codec, TrailingBytesAreRejected) {
  std::string bytes = codec::EncodeRequest(SampleInfer()) + "x";
  EXPECT_NE(codec::DecodeRequest(bytes).status().message().find("trailing"), std::string::npos);
}

TEST(Codec, MissingAndMistypedFieldsAreNamed) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(3);
  pk.pack("v");
  pk.pack(1);
  pk.pack("id");
  pk.pack(12);  // not a string
  pk.pack("op");
  pk.pack("ping");
  auto r = codec::DecodeRequest(std::string_view(buf.data(), buf.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'id'"), std::string::npos) << r.status().message();
}

TEST(Codec, UnknownOpAndVersionAreRejected) {
  protocol::Request r;
  r.id = "1";
  std::string bytes = codec::EncodeRequest(r);
  // Replace "ping" with "zing".
  bytes.replace(bytes.find("ping"), 4, "zing");
  EXPECT_NE(codec::DecodeRequest(bytes).status().message().find("unknown operation"),
            std::string::npos);
  r.version = 2;
  EXPECT_NE(codec::DecodeRequest(codec::EncodeRequest(r)).status().message().find("version"),
            std::string::npos);
}

TEST(Codec, TensorDataMustMatchShapeAndDtype) {
  protocol::Request r = SampleInfer();
  r.inputs["x"].data.pop_back();  // 15 bytes for 4 floats
  auto decoded = codec::DecodeRequest(codec::EncodeRequest(r));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("inputs.x.data"), std::string::npos)
      << decoded.status().message();
}

TEST(Codec, HugeShapeDoesNotOverflow) {
  protocol::Request r = SampleInfer();
  r.inputs["x"].shape = {1LL << 40, 1LL << 40};
  auto decoded = codec::DecodeRequest(codec::EncodeRequest(r));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("2^63 or more elements"), std::string::npos)
      << decoded.status().message();
}

// Decodes `r` under `limits`, expecting invalid_request whose message has `expect`.
void ExpectOverLimit(const std::string& bytes, const protocol::Limits& limits,
                     const std::string& expect) {
  auto decoded = codec::DecodeRequest(bytes, limits);
  ASSERT_FALSE(decoded.ok()) << expect;
  EXPECT_EQ(decoded.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(decoded.status().message().find(expect), std::string::npos)
      << "got: " << decoded.status().message();
}

TEST(Codec, EveryLimitIsEnforcedAndNamed) {
  protocol::Limits limits;
  limits.max_tensors = 3;
  limits.max_rank = 2;
  limits.max_elements = 100;
  limits.max_items = 64;
  limits.max_depth = 8;
  limits.max_message_bytes = 4096;
  const std::string sample = codec::EncodeRequest(SampleInfer());
  ExpectOverLimit(sample, limits, "field 'inputs': 4 values is over the limit max_tensors = 3");

  protocol::Request r = SampleInfer();
  r.inputs.erase("blob");
  ASSERT_OK(codec::DecodeRequest(codec::EncodeRequest(r), limits));  // at the limits: fine
  r.inputs["x"] = testing::Floats({1, 2, 2}, {1, 2, 3, 4});
  ExpectOverLimit(codec::EncodeRequest(r), limits,
                  "field 'inputs.x.shape': rank 3 is over the limit max_rank = 2");
  r.inputs["x"] = testing::RandomFloats({11, 10}, 1);
  ExpectOverLimit(codec::EncodeRequest(r), limits,
                  "field 'inputs.x.shape': 110 elements is over the limit max_elements = 100");
  r.inputs["x"] = testing::RandomFloats({40, 40}, 1);
  limits.max_elements = 10'000;
  ExpectOverLimit(codec::EncodeRequest(r), limits,
                  "bytes is over the limit max_message_bytes = 4096");

  // Nesting and entry counts are checked while parsing, before any field.
  msgpack::sbuffer deep;
  msgpack::packer<msgpack::sbuffer> pk(deep);
  for (int i = 0; i < 9; ++i) pk.pack_array(1);
  pk.pack_nil();
  ExpectOverLimit(std::string(deep.data(), deep.size()), limits,
                  "msgpack nesting is over the limit max_depth = 8");
  msgpack::sbuffer wide;
  msgpack::packer<msgpack::sbuffer> wide_pk(wide);
  wide_pk.pack_array(65);
  for (int i = 0; i < 65; ++i) wide_pk.pack_nil();
  ExpectOverLimit(std::string(wide.data(), wide.size()), limits,
                  "a msgpack array is over the limit max_items = 64");
}

TEST(Codec, AHugeDeclaredArrayIsRefusedBeforeAllocating) {
  // 0xdd: array32 claiming 2^32-1 entries in a 5-byte message.
  ExpectOverLimit(std::string("\xdd\xff\xff\xff\xff", 5), protocol::Limits{},
                  "over the limit max_items");
}

TEST(Codec, PeekFindsTheIdOfAnOtherwiseBadRequest) {
  protocol::Request r = SampleInfer();
  r.version = 9;
  EXPECT_EQ(codec::PeekRequestId(codec::EncodeRequest(r)), "req-1");
  EXPECT_EQ(codec::PeekRequestId("\xc1"), std::nullopt);
}

TEST(Codec, EveryErrorCodeRoundTripsInAnErrorReply) {
  const auto codes = Every(ErrorCode::kInternal);
  ASSERT_EQ(codes.size(), 12u);
  for (ErrorCode code : codes) {
    EXPECT_EQ(ParseErrorCode(ErrorCodeName(code)), code);
    if (code == ErrorCode::kOk) continue;
    const protocol::Reply reply = protocol::ErrorReply("e", Status(code, "why"));
    auto decoded = codec::DecodeReply(codec::EncodeReply(reply));
    ASSERT_OK(decoded);
    EXPECT_EQ(*decoded, reply) << ErrorCodeName(code);
  }
}

}  // namespace
}  // namespace botmodels
