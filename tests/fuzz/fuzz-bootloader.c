/* Fuzz target: the STM32 ROM bootloader's answers (AN3155) as the station's
 * flasher reads them.  The input is everything "the board" says; it sits in
 * one end of a socket pair whose write side is then shut, so the flasher
 * reads the input and then a hang-up, never waiting for a timeout.  The
 * flasher writes a small image; it must end in success or a clean error. */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ds-error.h"
#include "ds-flasher.h"
#include "ds-transport.h"
#include "ds-uart-flasher.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A transport over one end of a socket pair. */
#define FUZZ_TYPE_TRANSPORT (fuzz_transport_get_type ())
G_DECLARE_FINAL_TYPE (FuzzTransport, fuzz_transport, FUZZ, TRANSPORT, DsTransport)

struct _FuzzTransport
{
  DsTransport parent_instance;
  int         fd;
};

G_DEFINE_FINAL_TYPE (FuzzTransport, fuzz_transport, DS_TYPE_TRANSPORT)

static int
fuzz_transport_open_fd (DsTransport *transport,
                        GError     **error)
{
  return FUZZ_TRANSPORT (transport)->fd;
}

static void
fuzz_transport_close_fd (DsTransport *transport,
                         int          fd)
{
  close (fd);
}

static gboolean
fuzz_transport_set_even_parity (DsTransport *transport,
                                gboolean     even,
                                GError     **error)
{
  return TRUE;
}

static void
fuzz_transport_class_init (FuzzTransportClass *klass)
{
  DsTransportClass *transport_class = DS_TRANSPORT_CLASS (klass);

  transport_class->open_fd = fuzz_transport_open_fd;
  transport_class->close_fd = fuzz_transport_close_fd;
  transport_class->set_even_parity = fuzz_transport_set_even_parity;
}

static void
fuzz_transport_init (FuzzTransport *self)
{
  self->fd = -1;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const guint8 firmware[600] = { 'D', 'S', 'P', 'F', 1 };
  g_autoptr(GBytes) body = g_bytes_new_static (firmware, sizeof firmware);
  g_autoptr(DsFirmwareImage) image = ds_firmware_image_new_bin (body, 0x08000000, NULL);
  g_autoptr(FuzzTransport) transport = NULL;
  g_autoptr(DsUartFlasher) flasher = NULL;
  g_autoptr(GError) error = NULL;
  int sv[2];
  gboolean ok;

  /* The socket buffers hold far more than a fuzz input or the flasher's
   * writes for this image, so neither side ever blocks. */
  if (size > 16384 || socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
    return 0;
  if (size > 0 && write (sv[1], data, size) != (ssize_t) size)
    {
      close (sv[0]);
      close (sv[1]);
      return 0;
    }
  shutdown (sv[1], SHUT_WR);

  transport = g_object_new (FUZZ_TYPE_TRANSPORT, "port", "fuzz", NULL);
  transport->fd = sv[0];
  if (ds_transport_open (DS_TRANSPORT (transport), &error))
    {
      flasher = ds_uart_flasher_new (DS_TRANSPORT (transport));
      ok = ds_flasher_flash (DS_FLASHER (flasher), image, NULL, NULL, NULL, &error);
      /* Either it flashed, or it says why, in the project's error domain. */
      g_assert_true (ok || (error != NULL && error->domain == DS_ERROR));
      ds_transport_close (DS_TRANSPORT (transport));
    }
  else
    close (sv[0]);
  close (sv[1]);
  return 0;
}
