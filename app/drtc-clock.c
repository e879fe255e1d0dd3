/* daydream-rtc: the wall clock the REST fields use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "drtc-clock.h"

/* Seconds since the epoch, as the reference tool's time.time (). */
gdouble
drtc_now (void)
{
  return g_get_real_time () / 1e6;
}
