// UploadReader: image_path files, only inside the shared folder.
#include "gateway/upload_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/testutil.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;

TEST(UploadReader, ReadsSharedFilesOnlyInsideFilesDir) {
  testing::TempDir temp;
  const fs::path dir = temp.path();
  fs::create_directories(dir / "shared" / "sub");
  testing::WriteFile(dir / "shared" / "sub" / "a.png", "inside");
  testing::WriteFile(dir / "outside.png", "outside");
  fs::create_symlink(dir / "outside.png", dir / "shared" / "link.png");
  fs::create_symlink(dir / "shared" / "sub" / "a.png", dir / "shared" / "inner.png");
  UploadReader reader(dir / "shared", 100);
  EXPECT_EQ(*reader.ReadShared("sub/a.png"), "inside");
  EXPECT_EQ(*reader.ReadShared((dir / "shared" / "sub" / "a.png").string()), "inside");
  EXPECT_EQ(*reader.ReadShared("inner.png"), "inside") << "a link that stays inside is fine";
  for (const std::string& bad :
       {std::string("../outside.png"), std::string("link.png"), (dir / "outside.png").string(),
        std::string("sub"), std::string("missing.png"), std::string(""),
        std::string("sub/../../outside.png")}) {
    auto r = reader.ReadShared(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied) << bad;
  }
  testing::WriteFile(dir / "shared" / "big.png", std::string(101, 'x'));
  EXPECT_EQ(reader.ReadShared("big.png").status().code(), ErrorCode::kInvalidRequest);
  UploadReader none("", 100);
  EXPECT_EQ(none.ReadShared("sub/a.png").status().code(), ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace botmodels
