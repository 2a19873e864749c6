#pragma once

#include <string_view>

namespace botmodels {

// The EXIF orientation of a JPEG (1-8, TIFF tag 0x0112): how the camera
// held the sensor, which a viewer undoes before showing the picture. 1 (as
// stored) when the bytes are not a JPEG, carry no EXIF block, or hold a
// malformed one: a bad tag never fails a request. Reads only the markers
// before the image data; never reads past `jpeg`.
int ExifOrientation(std::string_view jpeg);

}  // namespace botmodels
