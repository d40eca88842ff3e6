// The model's profile of a real kernel: the switches of its version with the constants
// measured on that kernel (this machine's, or a guest's sent back by `kernels`).
#pragma once
#include <functional>

#include "model/profile.h"
#include "real/calibrate.h"

namespace eo {

// `families` answers socketpair(family, type) as that kernel did (real::probe_socketpair on
// this machine, a guest's table otherwise); empty: the model refuses other families.
model::KernelProfile measured_profile(model::KernelVersion v, const real::Calibration& cal,
                                      std::function<int(int family, int type)> families);

// A guest's socketpair table as such an answer (EAFNOSUPPORT outside the table).
std::function<int(int, int)> families_table(real::SocketpairErrnos table);

}  // namespace eo
