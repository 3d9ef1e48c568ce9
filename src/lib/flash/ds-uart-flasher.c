/* AN3155 client: sync, Get ID, extended erase of the pages the image
 * covers, write in 256-byte blocks, read-back verification, Go. */
#include "config.h"

#include <inttypes.h>

#include "ds-uart-flasher.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-error.h"
#include "ds-stm32-parts.h"

#define ACK  0x79
#define NACK 0x1F
#define BLOCK 256
#define ERASE_CHUNK 64           /* pages per Extended Erase command */
#define ACK_TIMEOUT_MS 1000
#define ERASE_MS_PER_PAGE 100    /* generous: a 4 KiB page takes ~22 ms */

struct _DsUartFlasher
{
  GObject      parent_instance;

  DsTransport *transport;
  guint16      product_id;
  gboolean     legacy_erase;  /* the bootloader knows Erase (0x43), not Extended Erase */
  gboolean     mass_erase;
};

static void ds_uart_flasher_iface_init (DsFlasherInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DsUartFlasher, ds_uart_flasher, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (DS_TYPE_FLASHER, ds_uart_flasher_iface_init))

static void
ds_uart_flasher_finalize (GObject *object)
{
  g_clear_object (&DS_UART_FLASHER (object)->transport);
  G_OBJECT_CLASS (ds_uart_flasher_parent_class)->finalize (object);
}

static void
ds_uart_flasher_class_init (DsUartFlasherClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_uart_flasher_finalize;
}

static void
ds_uart_flasher_init (DsUartFlasher *self)
{
}

DsUartFlasher *
ds_uart_flasher_new (DsTransport *transport)
{
  DsUartFlasher *self = g_object_new (DS_TYPE_UART_FLASHER, NULL);

  self->transport = g_object_ref (transport);
  return self;
}

void
ds_uart_flasher_set_mass_erase (DsUartFlasher *self,
                                gboolean       mass_erase)
{
  self->mass_erase = mass_erase;
}

guint16
ds_uart_flasher_get_product_id (DsUartFlasher *self)
{
  return self->product_id;
}

/* The wire time of @n bytes, twice over, at the port's rate. */
static guint
wire_ms (DsUartFlasher *self,
         gsize          n)
{
  guint baud = ds_transport_get_baud (self->transport);

  return baud > 0 ? (guint) (n * 11 * 2000 / baud) : 0;
}

static gboolean
send (DsUartFlasher *self,
      const guint8  *data,
      gsize          len,
      GCancellable  *cancellable,
      GError       **error)
{
  return ds_transport_write_all (self->transport, data, len, ACK_TIMEOUT_MS + wire_ms (self, len),
                                 cancellable, error);
}

static gboolean
recv_exact (DsUartFlasher *self,
            guint8        *out,
            gsize          len,
            guint          timeout_ms,
            GCancellable  *cancellable,
            GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_ms + wire_ms (self, len)) * 1000;
  gsize got = 0;

  while (got < len)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      gssize n;

      if (left <= 0)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
                       _("The bootloader on %s stopped answering"), ds_transport_get_port (self->transport));
          return FALSE;
        }
      n = ds_transport_read (self->transport, out + got, len - got, (guint) ((left + 999) / 1000),
                             cancellable, error);
      if (n < 0)
        return FALSE;
      got += n;
    }
  return TRUE;
}

/* Waits for ACK; NACK is DS_ERROR_REJECTED naming @what. */
static gboolean
expect_ack (DsUartFlasher *self,
            guint          timeout_ms,
            const char    *what,
            GCancellable  *cancellable,
            GError       **error)
{
  guint8 b;

  if (!recv_exact (self, &b, 1, timeout_ms, cancellable, error))
    {
      g_prefix_error (error, "%s: ", what);
      return FALSE;
    }
  if (b == ACK)
    return TRUE;
  if (b == NACK)
    g_set_error (error, DS_ERROR, DS_ERROR_REJECTED, _("The bootloader refused %s"), what);
  else
    g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL, _("The bootloader answered %s with 0x%02X"), what, b);
  return FALSE;
}

static gboolean
command (DsUartFlasher *self,
         guint8         cmd,
         const char    *what,
         GCancellable  *cancellable,
         GError       **error)
{
  const guint8 c[2] = { cmd, (guint8) (cmd ^ 0xFF) };

  return send (self, c, 2, cancellable, error) && expect_ack (self, ACK_TIMEOUT_MS, what, cancellable, error);
}

static gboolean
send_address (DsUartFlasher *self,
              guint32        address,
              const char    *what,
              GCancellable  *cancellable,
              GError       **error)
{
  guint8 a[5] = { address >> 24, (address >> 16) & 0xFF, (address >> 8) & 0xFF, address & 0xFF, 0 };

  a[4] = a[0] ^ a[1] ^ a[2] ^ a[3];
  return send (self, a, 5, cancellable, error) && expect_ack (self, ACK_TIMEOUT_MS, what, cancellable, error);
}

/* 0x7F lets the bootloader measure the baud rate; a bootloader that is
 * already synchronised answers NACK, which is as good. */
static gboolean
sync_bootloader (DsUartFlasher *self,
                 GCancellable  *cancellable,
                 GError       **error)
{
  for (int attempt = 0; attempt < 3; attempt++)
    {
      const guint8 s = 0x7F;
      g_autoptr(GError) local_error = NULL;
      guint8 b;

      ds_transport_flush_input (self->transport);
      if (!send (self, &s, 1, cancellable, error))
        return FALSE;
      if (recv_exact (self, &b, 1, 500, cancellable, &local_error))
        {
          if (b == ACK || b == NACK)
            return TRUE;
          continue;
        }
      if (!g_error_matches (local_error, DS_ERROR, DS_ERROR_TIMED_OUT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
               _("No STM32 bootloader answers on %s: check BOOT0 and the cable, or reset the board into its bootloader"),
               ds_transport_get_port (self->transport));
  return FALSE;
}

gboolean
ds_uart_flasher_probe (DsTransport  *transport,
                       guint         timeout_ms,
                       GCancellable *cancellable)
{
  const guint8 s = 0x7F;
  guint8 b = 0;

  ds_transport_flush_input (transport);
  if (!ds_transport_write_all (transport, &s, 1, timeout_ms, cancellable, NULL))
    return FALSE;
  if (ds_transport_read (transport, &b, 1, timeout_ms, cancellable, NULL) != 1)
    return FALSE;
  /* Whatever else the bootloader or a firmware said is of no use now. */
  g_usleep (10 * 1000);
  ds_transport_flush_input (transport);
  return b == ACK || b == NACK;
}

/* Get (0x00): the bootloader's version and the commands it knows; an old
 * part knows Erase (0x43) instead of Extended Erase (0x44). */
static gboolean
get_commands (DsUartFlasher *self,
              GCancellable  *cancellable,
              GError       **error)
{
  guint8 n;
  guint8 list[257];
  gboolean ext = FALSE, legacy = FALSE;

  if (!command (self, 0x00, "Get", cancellable, error) ||
      !recv_exact (self, &n, 1, ACK_TIMEOUT_MS, cancellable, error) ||
      !recv_exact (self, list, (gsize) n + 2, ACK_TIMEOUT_MS, cancellable, error))
    return FALSE;
  if (list[n + 1] != ACK)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL, _("The bootloader's Get answer is malformed"));
      return FALSE;
    }
  /* list[0] is the bootloader version, then the command codes. */
  for (guint i = 1; i <= n; i++)
    {
      ext |= list[i] == 0x44;
      legacy |= list[i] == 0x43;
    }
  if (!ext && !legacy)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL, _("The bootloader knows no erase command"));
      return FALSE;
    }
  self->legacy_erase = !ext;
  return TRUE;
}

static const DsStm32Part *
get_part (DsUartFlasher *self,
          GCancellable  *cancellable,
          GError       **error)
{
  guint8 r[4];
  const DsStm32Part *part;

  if (!command (self, 0x02, "Get ID", cancellable, error) ||
      !recv_exact (self, r, 4, ACK_TIMEOUT_MS, cancellable, error))
    return NULL;
  if (r[0] != 1 || r[3] != ACK)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL, _("The bootloader's Get ID answer is malformed"));
      return NULL;
    }
  self->product_id = (guint16) (r[1] << 8 | r[2]);
  part = ds_stm32_part_lookup (self->product_id);
  if (part == NULL)
    g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                 _("The board is an STM32 with product ID 0x%03X, which the station does not know"),
                 self->product_id);
  return part;
}

static gboolean
erase_pages (DsUartFlasher *self,
             const guint16 *pages,
             guint          n_pages,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autofree guint8 *msg = g_malloc (2 + 2 * n_pages + 1);
  guint8 x = 0;
  gsize len = 0;

  if (self->legacy_erase)
    {
      /* Erase (0x43): N-1 and one-byte page numbers, at most 255 pages. */
      msg[len++] = (guint8) (n_pages - 1);
      for (guint i = 0; i < n_pages; i++)
        msg[len++] = (guint8) pages[i];
      for (gsize i = 0; i < len; i++)
        x ^= msg[i];
      msg[len++] = x;
      return command (self, 0x43, _("Erase"), cancellable, error) &&
             send (self, msg, len, cancellable, error) &&
             expect_ack (self, ACK_TIMEOUT_MS + n_pages * ERASE_MS_PER_PAGE, _("the page erase"), cancellable, error);
    }
  msg[len++] = (n_pages - 1) >> 8;
  msg[len++] = (n_pages - 1) & 0xFF;
  for (guint i = 0; i < n_pages; i++)
    {
      msg[len++] = pages[i] >> 8;
      msg[len++] = pages[i] & 0xFF;
    }
  for (gsize i = 0; i < len; i++)
    x ^= msg[i];
  msg[len++] = x;
  return command (self, 0x44, _("Extended Erase"), cancellable, error) &&
         send (self, msg, len, cancellable, error) &&
         expect_ack (self, ACK_TIMEOUT_MS + n_pages * ERASE_MS_PER_PAGE, _("the page erase"), cancellable, error);
}

/* The whole flash at once: 0xFFFF with Extended Erase, 0xFF with Erase. */
static gboolean
erase_all (DsUartFlasher     *self,
           const DsStm32Part *part,
           GCancellable      *cancellable,
           GError           **error)
{
  const guint8 ext[3] = { 0xFF, 0xFF, 0x00 };
  const guint8 legacy[2] = { 0xFF, 0x00 };
  guint timeout = ACK_TIMEOUT_MS + (part->flash_size / part->page_size) * ERASE_MS_PER_PAGE;

  if (self->legacy_erase)
    return command (self, 0x43, _("Erase"), cancellable, error) &&
           send (self, legacy, sizeof legacy, cancellable, error) &&
           expect_ack (self, timeout, _("the mass erase"), cancellable, error);
  return command (self, 0x44, _("Extended Erase"), cancellable, error) &&
         send (self, ext, sizeof ext, cancellable, error) &&
         expect_ack (self, timeout, _("the mass erase"), cancellable, error);
}

static gboolean
write_block (DsUartFlasher *self,
             guint32        address,
             const guint8  *data,
             gsize          len,
             GCancellable  *cancellable,
             GError       **error)
{
  guint8 msg[BLOCK + 2];
  g_autofree char *what = g_strdup_printf (_("the write at 0x%08X"), address);
  guint8 x;

  /* The bootloader writes whole 32-bit words: pad with erased bytes. */
  gsize n = (len + 3) & ~(gsize) 3;

  msg[0] = (guint8) (n - 1);
  memset (msg + 1, 0xFF, n);
  memcpy (msg + 1, data, len);
  x = msg[0];
  for (gsize i = 0; i < n; i++)
    x ^= msg[1 + i];
  msg[n + 1] = x;
  return command (self, 0x31, what, cancellable, error) &&
         send_address (self, address, what, cancellable, error) &&
         send (self, msg, n + 2, cancellable, error) &&
         expect_ack (self, ACK_TIMEOUT_MS, what, cancellable, error);
}

static gboolean
read_block (DsUartFlasher *self,
            guint32        address,
            guint8        *out,
            gsize          len,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autofree char *what = g_strdup_printf (_("the read at 0x%08X"), address);
  const guint8 n[2] = { (guint8) (len - 1), (guint8) ((len - 1) ^ 0xFF) };

  return command (self, 0x11, what, cancellable, error) &&
         send_address (self, address, what, cancellable, error) &&
         send (self, n, 2, cancellable, error) &&
         expect_ack (self, ACK_TIMEOUT_MS, what, cancellable, error) &&
         recv_exact (self, out, len, ACK_TIMEOUT_MS, cancellable, error);
}

static const char *
ds_uart_flasher_get_name (DsFlasher *flasher)
{
  return "uart";
}

static gboolean
ds_uart_flasher_flash (DsFlasher        *flasher,
                       DsFirmwareImage  *image,
                       DsFlashProgress   progress,
                       gpointer          user_data,
                       GCancellable     *cancellable,
                       GError          **error)
{
  DsUartFlasher *self = DS_UART_FLASHER (flasher);
  const DsStm32Part *part;
  g_autoptr(GArray) pages = g_array_new (FALSE, FALSE, sizeof (guint16));
  guint64 done = 0;
  guint32 start = G_MAXUINT32;

  if (!sync_bootloader (self, cancellable, error))
    return FALSE;
  if (!get_commands (self, cancellable, error))
    return FALSE;
  part = get_part (self, cancellable, error);
  if (part == NULL)
    return FALSE;

  /* Refuse an image that does not fit before any byte is written. */
  for (guint i = 0; i < image->segments->len; i++)
    {
      DsImageSegment *s = g_ptr_array_index (image->segments, i);
      guint64 end = (guint64) s->address + g_bytes_get_size (s->data);

      if (s->address < part->flash_base || end > (guint64) part->flash_base + part->flash_size)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The image covers 0x%08X–0x%08" PRIX64 ", outside the %s's flash "
                         "(0x%08X, %u KiB)"),
                       s->address, end - 1, part->name, part->flash_base, part->flash_size / 1024);
          return FALSE;
        }
      start = MIN (start, s->address);
      /* Erase only the pages the image covers. */
      for (guint32 p = (s->address - part->flash_base) / part->page_size;
           (guint64) p * part->page_size + part->flash_base < end; p++)
        {
          guint16 page = (guint16) p;
          if (pages->len == 0 || g_array_index (pages, guint16, pages->len - 1) != page)
            g_array_append_val (pages, page);
        }
    }

  if (self->mass_erase)
    {
      if (!erase_all (self, part, cancellable, error))
        return FALSE;
      if (progress != NULL)
        progress ("erase", part->flash_size, part->flash_size, user_data);
      g_array_set_size (pages, 0);
    }
  if (self->legacy_erase && pages->len > 0 && g_array_index (pages, guint16, pages->len - 1) > 0xFF)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("This bootloader's Erase reaches pages 0–255 only; the image needs a mass erase"));
      return FALSE;
    }
  for (guint i = 0; i < pages->len; i += ERASE_CHUNK)
    {
      guint n = MIN (ERASE_CHUNK, pages->len - i);

      if (!erase_pages (self, &g_array_index (pages, guint16, i), n, cancellable, error))
        return FALSE;
      if (progress != NULL)
        progress ("erase", (guint64) (i + n) * part->page_size, (guint64) pages->len * part->page_size, user_data);
    }

  for (guint pass = 0; pass < 2; pass++)
    {
      done = 0;
      for (guint i = 0; i < image->segments->len; i++)
        {
          DsImageSegment *s = g_ptr_array_index (image->segments, i);
          gsize len = 0;
          const guint8 *data = g_bytes_get_data (s->data, &len);

          for (gsize off = 0; off < len; off += BLOCK)
            {
              gsize n = MIN (BLOCK, len - off);
              guint8 back[BLOCK];

              if (pass == 0)
                {
                  if (!write_block (self, s->address + off, data + off, n, cancellable, error))
                    return FALSE;
                }
              else
                {
                  if (!read_block (self, s->address + off, back, n, cancellable, error))
                    return FALSE;
                  if (memcmp (back, data + off, n) != 0)
                    {
                      gsize k = 0;
                      while (back[k] == data[off + k])
                        k++;
                      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                                   _("Verification failed at 0x%08zX: wrote 0x%02X, read 0x%02X"),
                                   s->address + off + k, data[off + k], back[k]);
                      return FALSE;
                    }
                }
              done += n;
              if (progress != NULL)
                progress (pass == 0 ? "write" : "verify", done, image->size, user_data);
            }
        }
    }

  return command (self, 0x21, "Go", cancellable, error) &&
         send_address (self, start, "Go", cancellable, error);
}

static void
ds_uart_flasher_iface_init (DsFlasherInterface *iface)
{
  iface->get_name = ds_uart_flasher_get_name;
  iface->flash = ds_uart_flasher_flash;
}
