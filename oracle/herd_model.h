// The herd lab on the model: a scenario's workers as model tasks on model::Kernel, driven
// event by event in virtual time (docs/HERD.md).
#pragma once
#include "common/herd.h"
#include "model/profile.h"

namespace eo::herd {

// Runs `s` on a model of the kernel `profile` describes.
Run run_on_model(const Scenario& s, const model::KernelProfile& profile);

}  // namespace eo::herd
