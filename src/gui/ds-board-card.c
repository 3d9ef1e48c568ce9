/* A board's card: follows the board's latest job and renders its contract
 * (state, step, fraction, message, error, times). */
#include "config.h"

#include "ds-board-card.h"

#include <glib/gi18n.h>

#include "ds-error.h"
#include "ds-identify-ui.h"
#include "ds-step-strip.h"
#include "ds-qr-view.h"

struct _DsBoardCard
{
  GtkFlowBoxChild parent_instance;

  GtkLabel       *slot_label;
  GtkLabel       *name_label;
  GtkLabel       *kind_label;
  GtkLabel       *port_label;
  GtkLabel       *uid_label;
  GtkLabel       *headline_label;
  GtkLabel       *cause_label;
  GtkLabel       *conflict_label;
  GtkWidget      *frame;
  GtkWidget      *ids_box;
  GtkWidget      *verdict_box;
  GtkWidget      *body_box;
  GtkWidget      *actions_box;
  GtkLabel       *attempt_label;
  GtkLabel       *message_label;
  GtkLabel       *hint_label;
  GtkLabel       *time_label;
  GtkProgressBar *progress_bar;
  GtkBox         *steps_box;
  GtkWidget      *start_button;
  GtkWidget      *cancel_button;
  GtkWidget      *details_button;
  GtkWidget      *identify_button;
  DsStepStrip    *steps;
  DsQrView       *qr_view;

  DsBoard        *board;
  DsJob          *job;
  gboolean        can_start;
  guint           attempt;        /* this board's attempt the job is, from 1; 0: not known */
  guint           max_attempts;   /* 0: no limit */
  DsCardStatus    status;          /* the job's, at once */
  DsCardStatus    rendered_status; /* what the card shows */
  char           *headline;
  char           *message;
  char           *hint;
  char           *uid;            /* shown whole in the UID's tooltip */
  guint           update_id;      /* tick callback: the job changed, render in a frame */
  gboolean        alarm;          /* failed and not yet acknowledged */
  gboolean        disconnected;   /* the board went: the card keeps its last state */
  gboolean        compact;
  char           *conflict;       /* a duplicate serial or UID, or NULL */
};

G_DEFINE_FINAL_TYPE (DsBoardCard, ds_board_card, GTK_TYPE_FLOW_BOX_CHILD)

static const char *const status_classes[] = {
  "idle", "queued", "running", "passed", "failed", "already-provisioned", "cancelled",
};

static void update (DsBoardCard *self);
static void cancel_render (DsBoardCard *self);
static gboolean focus_in_cb (GtkWidget *widget, GdkEvent *event, DsBoardCard *self);

static void
ds_board_card_dispose (GObject *object)
{
  DsBoardCard *self = DS_BOARD_CARD (object);

  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  cancel_render (self);
  g_clear_object (&self->job);
  g_clear_object (&self->board);
  G_OBJECT_CLASS (ds_board_card_parent_class)->dispose (object);
}

static void
ds_board_card_finalize (GObject *object)
{
  DsBoardCard *self = DS_BOARD_CARD (object);

  g_free (self->headline);
  g_free (self->message);
  g_free (self->hint);
  g_free (self->uid);
  g_free (self->conflict);
  G_OBJECT_CLASS (ds_board_card_parent_class)->finalize (object);
}

/* Every card is as wide as its narrowest layout, so that the grid keeps
 * its columns whatever a card says; long texts wrap instead. */
static void
ds_board_card_get_preferred_width (GtkWidget *widget,
                                   int       *minimum,
                                   int       *natural)
{
  GTK_WIDGET_CLASS (ds_board_card_parent_class)->get_preferred_width (widget, minimum, natural);
  *natural = *minimum;
}

static void
ds_board_card_class_init (DsBoardCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ds_board_card_dispose;
  object_class->finalize = ds_board_card_finalize;
  widget_class->get_preferred_width = ds_board_card_get_preferred_width;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-board-card.ui");
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, slot_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, name_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, cause_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, conflict_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, frame);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, ids_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, verdict_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, body_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, actions_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, kind_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, port_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, uid_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, headline_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, attempt_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, message_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, hint_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, time_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, steps_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, start_button);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, details_button);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, identify_button);
  gtk_widget_class_bind_template_child (widget_class, DsBoardCard, qr_view);
  g_type_ensure (DS_TYPE_QR_VIEW);
  gtk_widget_class_set_css_name (widget_class, "flowboxchild");
}

/* The headline (when cut), the message and the UID are read whole in
 * their tooltips, asked for when shown: setting a tooltip's text makes GTK
 * look where the pointer is (three round trips to the X server), and the
 * texts change at every step of every board. */
static gboolean
query_tooltip_cb (GtkWidget  *label,
                  int         x,
                  int         y,
                  gboolean    keyboard_mode,
                  GtkTooltip *tooltip,
                  DsBoardCard *self)
{
  const char *text = label == GTK_WIDGET (self->uid_label) ? self->uid
                     : label == GTK_WIDGET (self->headline_label) ? self->headline
                     : self->message;

  if (text == NULL || *text == '\0')
    return FALSE;
  if (label == GTK_WIDGET (self->headline_label) && !pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (label))))
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
ds_board_card_init (DsBoardCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->message_label), TRUE);
  g_signal_connect (self->message_label, "query-tooltip", G_CALLBACK (query_tooltip_cb), self);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->uid_label), TRUE);
  g_signal_connect (self->uid_label, "query-tooltip", G_CALLBACK (query_tooltip_cb), self);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->headline_label), TRUE);
  g_signal_connect (self->headline_label, "query-tooltip", G_CALLBACK (query_tooltip_cb), self);
  g_signal_connect (self, "focus-in-event", G_CALLBACK (focus_in_cb), self);
  g_signal_connect (self, "button-press-event", G_CALLBACK (focus_in_cb), self);

  self->steps = DS_STEP_STRIP (ds_step_strip_new ());
  gtk_widget_show (GTK_WIDGET (self->steps));
  gtk_container_add (GTK_CONTAINER (self->steps_box), GTK_WIDGET (self->steps));
}

/* What an operator should do after a failure, from the kind of error, what
 * it looked like on the line, and the step it happened at.  The cause itself
 * comes from the backend. */
static const char *
hint_for_failure (const GError *error,
                  DsStep        step)
{
  if (error == NULL || error->domain != DS_ERROR)
    return _("Press Retry. If it fails again, set the board aside for an engineer.");

  switch (ds_error_get_cause (error))
    {
    case DS_ERROR_CAUSE_LINE_NOISE:
      return _("The line garbles data: reseat the USB cable or use another one, then press Retry.");
    case DS_ERROR_CAUSE_STOPPED:
      return _("The board stopped answering mid-job: unplug it, plug it back in, then press Retry.");
    case DS_ERROR_CAUSE_NO_ANSWER:
      return _("Nothing came back: check the cable and that the board runs the provisioning firmware, then press Retry.");
    case DS_ERROR_CAUSE_UNKNOWN:
    default:
      break;
    }

  switch (error->code)
    {
    case DS_ERROR_TIMED_OUT:
      return _("Check the cable and the firmware, then press Retry.");
    case DS_ERROR_DISCONNECTED:
    case DS_ERROR_NOT_FOUND:
      return _("Plug the board back in firmly, then press Retry.");
    case DS_ERROR_IO:
      return _("Unplug the board, plug it back in and press Retry.");
    case DS_ERROR_PROTOCOL:
      return _("Reflash the provisioning firmware, then press Retry.");
    case DS_ERROR_REJECTED:
      return _("The board refused the request: press Retry once. If it refuses again, set it aside for an engineer.");
    case DS_ERROR_INVALID_DATA:
      if (step == DS_STEP_CHECK || step == DS_STEP_FORWARD)
        return _("Retrying will not help: the CA is set up wrong. Call an engineer.");
      return _("Retrying will not help: set the board aside for an engineer.");
    case DS_ERROR_CONFIG:
      return _("The station is set up wrong: call an engineer.");
    default:
      return _("Press Retry. If it fails again, set the board aside for an engineer.");
    }
}

static char *
format_duration (gint64 usec)
{
  double s = usec / (double) G_USEC_PER_SEC;

  if (s < 60)
    /* TRANSLATORS: a duration in seconds */
    return g_strdup_printf (_("%.1f s"), s);
  /* TRANSLATORS: a duration in minutes and seconds */
  return g_strdup_printf (_("%d min %02d s"), (int) s / 60, (int) s % 60);
}

/* The job estimates its end (step weights measured by the station,
 * retries and timeouts); the card only says it. */
static char *
time_left_text (DsBoardCard *self)
{
  gint64 left = ds_job_get_time_left (self->job, g_get_monotonic_time ());

  if (left < 0)
    return g_strdup (_("Estimating…"));
  return ds_job_format_time_left (left);
}

/* A label whose text changes is measured and laid out again, and with it
 * the whole grid: only on a real change. */
/* Pango breaks a line after a slash or a hyphen: "/dev/pts/" and "2", or
 * "Test-" and "CA".  A word holding one is kept whole, unless it is so long
 * (a /dev/serial/by-id/ path) that it would not fit a card's line. */
#define KEEP_WHOLE_MAX_CHARS 24

static PangoAttrList *
keep_words_whole (const char *text)
{
  PangoAttrList *attrs = pango_attr_list_new ();
  const char *p = text != NULL ? text : "";
  const char *base = p;

  while (*p != '\0')
    {
      const char *start;
      gboolean joined = FALSE;

      while (*p == ' ' || *p == '\n')
        p++;
      start = p;
      while (*p != '\0' && *p != ' ' && *p != '\n')
        {
          if ((*p == '/' || *p == '-') && p > start && p[1] != '\0' && p[1] != ' ' && p[1] != '\n')
            joined = TRUE;
          p++;
        }
      if (joined && g_utf8_strlen (start, p - start) <= KEEP_WHOLE_MAX_CHARS)
        {
          PangoAttribute *attr = pango_attr_allow_breaks_new (FALSE);

          attr->start_index = start - base;
          attr->end_index = p - base;
          pango_attr_list_insert (attrs, attr);
        }
    }
  return attrs;
}

/* Sets @text unless the label shows it already; TRUE when it changed. */
static gboolean
set_label (GtkLabel   *label,
           const char *text)
{
  g_autoptr(PangoAttrList) attrs = NULL;

  if (g_strcmp0 (gtk_label_get_text (label), text) == 0)
    return FALSE;
  attrs = keep_words_whole (text);
  gtk_label_set_text (label, text);
  gtk_label_set_attributes (label, attrs);
  return TRUE;
}

static void
set_texts (DsBoardCard *self,
           const char  *headline,
           const char  *message,
           const char  *hint)
{
  if (g_strcmp0 (self->headline, headline) == 0 && g_strcmp0 (self->message, message != NULL ? message : "") == 0 &&
      g_strcmp0 (self->hint, hint != NULL ? hint : "") == 0)
    return;
  g_free (self->headline);
  self->headline = g_strdup (headline);
  g_free (self->message);
  self->message = g_strdup (message != NULL ? message : "");
  g_free (self->hint);
  self->hint = g_strdup (hint != NULL ? hint : "");
  set_label (self->headline_label, self->headline);
  set_label (self->message_label, self->message);
  set_label (self->hint_label, self->hint);
  gtk_widget_set_visible (GTK_WIDGET (self->hint_label), *self->hint != '\0');
}

static gboolean
is_set_aside (DsBoardCard *self)
{
  return self->status == DS_CARD_STATUS_FAILED && self->max_attempts > 0 &&
         self->attempt >= self->max_attempts;
}

static void
update_attempt (DsBoardCard *self)
{
  g_autofree char *text = NULL;
  gboolean show = self->attempt > 1 ||
                  (self->attempt == 1 && self->status == DS_CARD_STATUS_FAILED);

  if (show && self->max_attempts > 0)
    /* TRANSLATORS: which try this is for the board, e.g. "Attempt 2 of 3" */
    text = g_strdup_printf (_("Attempt %u of %u"), self->attempt, self->max_attempts);
  else if (show)
    /* TRANSLATORS: which try this is for the board, e.g. "Attempt 2" */
    text = g_strdup_printf (_("Attempt %u"), self->attempt);
  set_label (self->attempt_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->attempt_label), text != NULL);
}

static DsCardStatus
status_of_job (DsJob *job)
{
  if (job == NULL)
    return DS_CARD_STATUS_IDLE;
  switch (ds_job_get_state (job))
    {
    case DS_JOB_STATE_QUEUED: return DS_CARD_STATUS_QUEUED;
    case DS_JOB_STATE_RUNNING: return DS_CARD_STATUS_RUNNING;
    case DS_JOB_STATE_PASSED: return DS_CARD_STATUS_PASSED;
    case DS_JOB_STATE_FAILED: return DS_CARD_STATUS_FAILED;
    case DS_JOB_STATE_ALREADY_PROVISIONED: return DS_CARD_STATUS_ALREADY_PROVISIONED;
    case DS_JOB_STATE_CANCELLED: return DS_CARD_STATUS_CANCELLED;
    default: return DS_CARD_STATUS_IDLE;
    }
}

static void
update_time (DsBoardCard *self)
{
  g_autofree char *text = NULL;

  switch (self->status)
    {
    case DS_CARD_STATUS_RUNNING:
      text = time_left_text (self);
      break;
    case DS_CARD_STATUS_PASSED:
    case DS_CARD_STATUS_FAILED:
    case DS_CARD_STATUS_ALREADY_PROVISIONED:
    case DS_CARD_STATUS_CANCELLED:
      {
        g_autofree char *d = format_duration (ds_job_get_finished (self->job) - ds_job_get_started (self->job));
        /* TRANSLATORS: how long a finished job took, e.g. "Took 4.2 s" */
        text = g_strdup_printf (_("Took %s"), d);
      }
      break;
    case DS_CARD_STATUS_QUEUED:
      text = g_strdup (_("Queued"));
      break;
    case DS_CARD_STATUS_IDLE:
    default:
      text = g_strdup (_("Not started"));
      break;
    }
  set_label (self->time_label, text);
}

/* One word for the compact view: why the board is where it is. */
static const char *
cause_word (DsBoardCard *self)
{
  if (self->conflict != NULL)
    /* TRANSLATORS: one word on a compact card: the board shares its probe
     * serial or UID with another */
    return C_("cause", "duplicate");
  if (self->disconnected)
    /* TRANSLATORS: one word on a compact card: the board was unplugged */
    return C_("cause", "unplugged");
  switch (self->status)
    {
    case DS_CARD_STATUS_FAILED:
      return ds_job_get_failed_step (self->job) < DS_N_STEPS
             ? ds_step_get_label (ds_job_get_failed_step (self->job)) : "";
    case DS_CARD_STATUS_RUNNING:
      return ds_step_get_label (ds_job_get_step (self->job));
    default:
      return "";
    }
}

/* What only a card in a fixture, or a gone board, or a duplicate shows. */
static void
update_slot_state (DsBoardCard *self)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self));
  const char *slot = ds_board_get_slot (self->board);

  set_label (self->slot_label, slot != NULL ? slot : "");
  gtk_widget_set_visible (GTK_WIDGET (self->slot_label), slot != NULL);
  if (self->disconnected)
    {
      /* The last state stays; what to do replaces the hint. */
      g_free (self->hint);
      /* TRANSLATORS: on the card of a board that was unplugged */
      self->hint = g_strdup (_("Plug it in again."));
      set_label (self->hint_label, self->hint);
      gtk_widget_set_visible (GTK_WIDGET (self->hint_label), TRUE);
      gtk_style_context_add_class (style, "disconnected");
    }
  else
    gtk_style_context_remove_class (style, "disconnected");
  set_label (self->conflict_label, self->conflict != NULL ? self->conflict : "");
  gtk_widget_set_visible (GTK_WIDGET (self->conflict_label), self->conflict != NULL);
  if (self->conflict != NULL)
    gtk_style_context_add_class (style, "conflict");
  else
    gtk_style_context_remove_class (style, "conflict");
  set_label (self->cause_label, cause_word (self));
  gtk_widget_set_visible (GTK_WIDGET (self->cause_label), self->compact);
  gtk_widget_set_visible (self->ids_box, !self->compact);
  gtk_widget_set_visible (self->body_box, !self->compact);
  gtk_widget_set_visible (self->actions_box, !self->compact);
  gtk_widget_set_visible (GTK_WIDGET (self->message_label), !self->compact);
  /* Narrow enough for 8 columns at 1280 and 12 at 1920. */
  gtk_widget_set_size_request (self->frame, self->compact ? DS_BOARD_CARD_COMPACT_WIDTH : DS_BOARD_CARD_WIDTH, -1);
  if (self->compact)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->hint_label), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->attempt_label), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->conflict_label), FALSE);
      gtk_style_context_add_class (style, "compact");
    }
  else
    gtk_style_context_remove_class (style, "compact");
}

/* The board's QR code, small in the header's corner, once the job has
 * its label information. */
static void
update_qr (DsBoardCard *self)
{
  const DsLabelInfo *info = self->job != NULL ? ds_job_get_label_info (self->job) : NULL;

  ds_qr_view_set_text (self->qr_view, info != NULL ? info->qr : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->qr_view), info != NULL && !self->compact);
}

static void
set_status_class (GtkWidget    *widget,
                  DsCardStatus  status)
{
  GtkStyleContext *style = gtk_widget_get_style_context (widget);

  if (gtk_style_context_has_class (style, status_classes[status]))
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (status_classes); i++)
    gtk_style_context_remove_class (style, status_classes[i]);
  gtk_style_context_add_class (style, status_classes[status]);
}

static void
update (DsBoardCard *self)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self));
  g_autofree char *uid = NULL;
  g_autofree char *uid_text = NULL;
  g_autofree char *message = NULL;
  g_autofree char *accessible = NULL;
  DsJob *job = self->job;
  double fraction = 0.0;
  gboolean can_retry;
  DsCardStatus old_status = self->rendered_status;

  /* Rendered now: a frame's render would have nothing left to do. */
  cancel_render (self);
  self->status = status_of_job (job);
  self->rendered_status = self->status;

  uid = job != NULL && ds_job_get_uid (job) != NULL ? g_strdup (ds_job_get_uid (job))
                                                    : ds_board_dup_uid (self->board);
  /* TRANSLATORS: the board's 96-bit chip UID */
  uid_text = uid != NULL ? g_strdup_printf (_("UID %s"), uid) : g_strdup (_("UID not known yet"));
  g_free (self->uid);
  self->uid = g_steal_pointer (&uid);
  set_label (self->uid_label, uid_text);
  update_qr (self);

  switch (self->status)
    {
    case DS_CARD_STATUS_IDLE:
      set_texts (self, C_("card", "Ready"),
                 self->can_start ? _("Press Start, or Start All for every board.")
                                 : _("Sign in to start provisioning."),
                 NULL);
      break;
    case DS_CARD_STATUS_QUEUED:
      set_texts (self, C_("card", "Waiting"), _("Starts as soon as a slot is free."), NULL);
      break;
    case DS_CARD_STATUS_RUNNING:
      {
        DsStep step = ds_job_get_step (job);
        /* TRANSLATORS: the step a board is at, e.g. "Install…" */
        g_autofree char *headline = g_strdup_printf (_("%s…"), ds_step_get_label (step));
        /* TRANSLATORS: how far a board is, e.g. "Step 6 of 8" */
        g_autofree char *where = g_strdup_printf (_("Step %d of %d"), (int) step + 1, DS_N_STEPS);

        set_texts (self, headline, where, NULL);
      }
      fraction = ds_job_get_fraction (job);
      break;
    case DS_CARD_STATUS_PASSED:
      /* TRANSLATORS: the verdict on a board, in big letters */
      set_texts (self, _("PASS"), _("DAC installed, attested and locked."),
                 _("Put it with the passed boards."));
      fraction = 1.0;
      break;
    case DS_CARD_STATUS_ALREADY_PROVISIONED:
      set_texts (self, C_("card", "Provisioned"),
                 _("This board already holds locked credentials; it needs nothing more."),
                 _("Put it with the passed boards."));
      fraction = 1.0;
      break;
    case DS_CARD_STATUS_FAILED:
      {
        const GError *error = ds_job_get_error (job);
        DsStep step = ds_job_get_failed_step (job);

        /* TRANSLATORS: where and why a board failed, e.g. "At Install: the board refused…" */
        message = g_strdup_printf (_("At %s: %s"), ds_step_get_label (step),
                                   error != NULL ? error->message : _("unknown error"));
        if (self->max_attempts > 0 && self->attempt >= self->max_attempts)
          {
            g_autofree char *aside = g_strdup_printf (ngettext ("Failed %u time: set the board aside for an engineer. Start All leaves it alone.",
                                                                "Failed %u times: set the board aside for an engineer. Start All leaves it alone.",
                                                                self->attempt), self->attempt);

            /* TRANSLATORS: the verdict on a board, in big letters */
            set_texts (self, _("FAIL"), message, aside);
          }
        else
          /* TRANSLATORS: the verdict on a board, in big letters */
          set_texts (self, _("FAIL"), message, hint_for_failure (error, step));
        fraction = ds_job_get_fraction (job);
      }
      break;
    case DS_CARD_STATUS_CANCELLED:
      if (ds_job_get_step_outcome (job, DS_STEP_FLASH) == NULL)
        {
          /* Taken off the queue: the board was never spoken to. */
          set_texts (self, C_("card", "Cancelled"), _("Cancelled before it started."),
                     _("Press Start to provision it."));
          break;
        }
      /* TRANSLATORS: where a cancelled job stopped, e.g. "Stopped at Install." */
      message = g_strdup_printf (_("Stopped at %s."), ds_step_get_label (ds_job_get_failed_step (job) < DS_N_STEPS
                                                                         ? ds_job_get_failed_step (job)
                                                                         : ds_job_get_step (job)));
      set_texts (self, C_("card", "Cancelled"), message, _("Press Retry to start again."));
      fraction = ds_job_get_fraction (job);
      break;
    default:
      break;
    }

  /* A failure raises a visual alarm (the card's frame pulses red) until
   * the operator acknowledges it: clicks the card, moves to it or acts. */
  if (self->status == DS_CARD_STATUS_FAILED && old_status != DS_CARD_STATUS_FAILED && job != NULL &&
      ds_job_get_finished (job) > 0 && g_get_real_time () - ds_job_get_finished (job) < 60 * G_USEC_PER_SEC)
    self->alarm = TRUE;
  else if (self->status != DS_CARD_STATUS_FAILED)
    self->alarm = FALSE;
  if (self->alarm)
    gtk_style_context_add_class (style, "alarm");
  else
    gtk_style_context_remove_class (style, "alarm");

  /* Restyling a widget restyles all it holds: the status goes on the
   * verdict and the progress bar, not on the card, and only on a change. */
  set_status_class (self->verdict_box, self->status);
  set_status_class (GTK_WIDGET (self->progress_bar), self->status);

  for (DsStep step = 0; step < DS_N_STEPS; step++)
    ds_step_strip_set_outcome (self->steps, step, job != NULL ? ds_job_get_step_outcome (job, step) : NULL,
                               job != NULL ? ds_job_get_step_message (job, step) : NULL);

  /* The bar lays itself out and is drawn again at every set, even of the
   * fraction it has. */
  if (gtk_progress_bar_get_fraction (self->progress_bar) != fraction)
    gtk_progress_bar_set_fraction (self->progress_bar, fraction);
  update_time (self);
  update_attempt (self);
  if (is_set_aside (self))
    gtk_style_context_add_class (style, "set-aside");
  else
    gtk_style_context_remove_class (style, "set-aside");

  can_retry = (self->status == DS_CARD_STATUS_FAILED && !is_set_aside (self)) ||
              self->status == DS_CARD_STATUS_CANCELLED;
  update_slot_state (self);
  /* GtkButton makes a new label widget for every label it is given. */
  if (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (self->start_button)), can_retry ? _("_Retry") : _("_Start")) != 0)
    gtk_button_set_label (GTK_BUTTON (self->start_button), can_retry ? _("_Retry") : _("_Start"));
  gtk_widget_set_visible (self->start_button, (self->status == DS_CARD_STATUS_IDLE || can_retry) &&
                                              !self->disconnected && self->conflict == NULL);
  gtk_widget_set_visible (self->cancel_button, self->status == DS_CARD_STATUS_QUEUED ||
                                               self->status == DS_CARD_STATUS_RUNNING);
  /* The button follows its action's state, which is on for every card:
   * a card with nothing to show has no Details button. */
  gtk_widget_set_visible (self->details_button, job != NULL);
  ds_identify_button_update (self->identify_button, ds_board_get_port (self->board),
                             ds_identify_why_not (!self->disconnected, self->status == DS_CARD_STATUS_QUEUED ||
                                                                       self->status == DS_CARD_STATUS_RUNNING));
  {
    GtkStyleContext *button_style = gtk_widget_get_style_context (self->start_button);

    if (can_retry)
      gtk_style_context_add_class (button_style, "suggested-action");
    else
      gtk_style_context_remove_class (button_style, "suggested-action");
  }

  /* TRANSLATORS: what a screen reader says for a card, e.g. "Board sim-3: PASS" */
  accessible = g_strdup_printf (_("Board %s: %s"), ds_board_get_name (self->board), self->headline);
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), accessible);
  atk_object_set_description (gtk_widget_get_accessible (GTK_WIDGET (self)), self->message);
}

static void
acknowledge (DsBoardCard *self)
{
  if (!self->alarm)
    return;
  self->alarm = FALSE;
  gtk_style_context_remove_class (gtk_widget_get_style_context (GTK_WIDGET (self)), "alarm");
}

static gboolean
focus_in_cb (GtkWidget   *widget,
             GdkEvent    *event,
             DsBoardCard *self)
{
  acknowledge (self);
  return GDK_EVENT_PROPAGATE;
}

/* The jobs' changes reach the cards in frames, a few cards a frame: a card
 * whose text or verdict changes is restyled, measured, laid out and drawn
 * again, and 16 boards that finish together would otherwise do all that in
 * one frame (65-120 ms: several frames lost, see BENCHMARKS.md).  Two cards
 * a frame keep a frame well under 16 ms; 16 verdicts take 8 frames, about
 * 130 ms, too quick for an operator to notice the order.  A frame taken by
 * a new card (ds_board_card_reserve_frame()) renders none. */
#define RENDERS_PER_FRAME 2

static gint64 budget_frame = -1;
static guint  budget_renders;        /* cards rendered in budget_frame */
/* Frames with fewer renders: those that show a new card and draw it. */
static struct {
  gint64 frame;
  guint  renders;
} reserved[3] = { { -1, 0 }, { -1, 0 }, { -1, 0 } };

static void
budget_for (GdkFrameClock *frame_clock)
{
  gint64 frame = gdk_frame_clock_get_frame_counter (frame_clock);

  if (frame != budget_frame)
    {
      budget_frame = frame;
      budget_renders = 0;
    }
}

static guint
renders_allowed (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    if (reserved[i].frame == budget_frame)
      return reserved[i].renders;
  return RENDERS_PER_FRAME;
}

gboolean
ds_board_card_frame_is_free (GdkFrameClock *frame_clock)
{
  g_return_val_if_fail (GDK_IS_FRAME_CLOCK (frame_clock), FALSE);

  budget_for (frame_clock);
  return budget_renders == 0;
}

void
ds_board_card_reserve_frame (GdkFrameClock *frame_clock,
                             gint64         frame,
                             guint          renders)
{
  gint64 now;
  guint slot = 0;

  g_return_if_fail (GDK_IS_FRAME_CLOCK (frame_clock));

  /* The slot of the same frame, else one of a frame gone, else the oldest. */
  now = gdk_frame_clock_get_frame_counter (frame_clock);
  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    {
      if (reserved[i].frame == frame || reserved[i].frame < now)
        {
          slot = i;
          break;
        }
      if (reserved[i].frame < reserved[slot].frame)
        slot = i;
    }
  reserved[slot].frame = frame;
  reserved[slot].renders = MIN (renders, RENDERS_PER_FRAME);
}

static gboolean
render_tick_cb (GtkWidget     *widget,
                GdkFrameClock *frame_clock,
                gpointer       user_data)
{
  DsBoardCard *self = DS_BOARD_CARD (widget);
  /* A new status (a verdict, with its colours and QR code) restyles and
   * lays out much of the card: a frame's whole budget. */
  guint cost = self->status != self->rendered_status ? RENDERS_PER_FRAME : 1;

  budget_for (frame_clock);
  /* Over budget: wait for the next frame.  A card served goes to the back
   * of the line (its next tick callback is connected after the others). */
  if (budget_renders + cost > renders_allowed ())
    return G_SOURCE_CONTINUE;
  budget_renders += cost;
  self->update_id = 0;
  update (self);
  return G_SOURCE_REMOVE;
}

static void
cancel_render (DsBoardCard *self)
{
  if (self->update_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->update_id);
      self->update_id = 0;
    }
}

/* Renders the job's state in a coming frame; at once when the card is not
 * on screen (nothing to draw, and no frame would come). */
static void
queue_render (DsBoardCard *self)
{
  /* The window acts on the status (Start All, Retry) before it is shown. */
  self->status = status_of_job (self->job);
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      cancel_render (self);
      update (self);
      return;
    }
  if (self->update_id == 0)
    self->update_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), render_tick_cb, NULL, NULL);
}

/* What a getter returns is what the card shows: a change waiting for a
 * frame is rendered first. */
static void
flush_render (DsBoardCard *self)
{
  if (self->update_id != 0)
    update (self);
}

static void
job_changed_cb (DsBoardCard *self)
{
  queue_render (self);
}

static void
job_finished_cb (DsBoardCard *self)
{
  /* A board taken off the queue is the operator's own click: shown at once. */
  if (ds_job_get_state (self->job) == DS_JOB_STATE_CANCELLED)
    {
      cancel_render (self);
      update (self);
      return;
    }
  queue_render (self);
}

DsBoardCard *
ds_board_card_new (DsBoard *board)
{
  DsBoardCard *self = g_object_new (DS_TYPE_BOARD_CARD, NULL);
  const char *port = ds_board_get_port (board);
  GVariant *target = g_variant_new_string (port);

  self->board = g_object_ref (board);
  gtk_label_set_text (self->name_label, ds_board_get_name (board));
  gtk_label_set_text (self->port_label, port);
  /* One line, shortened in the middle if it must be: the tooltip has the
   * whole path and what the port is. */
  {
    const char *description = ds_board_get_description (board);
    g_autofree char *tooltip = description != NULL && *description != '\0' && g_strcmp0 (description, port) != 0
                               ? g_strdup_printf ("%s\n%s", port, description) : g_strdup (port);

    gtk_widget_set_tooltip_text (GTK_WIDGET (self->port_label), tooltip);
  }
  gtk_label_set_text (self->kind_label, ds_board_get_kind (board) == DS_BOARD_KIND_SIMULATED
                                        /* TRANSLATORS: a tag on the card of a simulated board */
                                        ? C_("board kind", "simulated")
                                        /* TRANSLATORS: a tag on the card of a board on a USB serial port */
                                        : C_("board kind", "USB"));
  g_variant_ref_sink (target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->start_button), target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->cancel_button), target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->details_button), target);
  g_variant_unref (target);
  update (self);
  return self;
}

DsBoard *
ds_board_card_get_board (DsBoardCard *self)
{
  return self->board;
}

DsJob *
ds_board_card_get_job (DsBoardCard *self)
{
  return self->job;
}

void
ds_board_card_set_job (DsBoardCard *self,
                       DsJob       *job)
{
  if (self->job == job)
    return;
  cancel_render (self);
  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_set_object (&self->job, job);
  if (job != NULL)
    {
      g_signal_connect_swapped (job, "changed", G_CALLBACK (job_changed_cb), self);
      g_signal_connect_swapped (job, "finished", G_CALLBACK (job_finished_cb), self);
    }
  queue_render (self);
}

DsCardStatus
ds_board_card_get_status (DsBoardCard *self)
{
  return self->status;
}

void
ds_board_card_set_attempts (DsBoardCard *self,
                            guint        attempt,
                            guint        max_attempts)
{
  if (self->attempt == attempt && self->max_attempts == max_attempts)
    return;
  self->attempt = attempt;
  self->max_attempts = max_attempts;
  queue_render (self);
}

guint
ds_board_card_get_attempt (DsBoardCard *self)
{
  return self->attempt;
}

const char *
ds_board_card_get_attempt_text (DsBoardCard *self)
{
  flush_render (self);
  return gtk_widget_get_visible (GTK_WIDGET (self->attempt_label))
         ? gtk_label_get_text (self->attempt_label) : "";
}

gboolean
ds_board_card_get_alarm (DsBoardCard *self)
{
  return self->alarm;
}

void
ds_board_card_acknowledge (DsBoardCard *self)
{
  acknowledge (self);
}

gboolean
ds_board_card_is_set_aside (DsBoardCard *self)
{
  return is_set_aside (self);
}

const char *
ds_board_card_get_headline (DsBoardCard *self)
{
  flush_render (self);
  return self->headline;
}

const char *
ds_board_card_get_message (DsBoardCard *self)
{
  flush_render (self);
  return self->message;
}

const char *
ds_board_card_get_hint (DsBoardCard *self)
{
  flush_render (self);
  return self->hint;
}

void
ds_board_card_set_can_start (DsBoardCard *self,
                             gboolean     can_start)
{
  if (self->can_start == can_start)
    return;
  self->can_start = can_start;
  queue_render (self);
}

void
ds_board_card_tick (DsBoardCard *self)
{
  if (self->status == DS_CARD_STATUS_RUNNING)
    update_time (self);
}

void
ds_board_card_prepare (DsBoardCard *self)
{
  g_return_if_fail (DS_IS_BOARD_CARD (self));

  ds_step_strip_prepare (self->steps);
}

gboolean
ds_board_card_is_rendered (DsBoardCard *self)
{
  return self->update_id == 0;
}

/* The board now in the card's slot (or with its UID): the card goes on
 * with it. */
void
ds_board_card_set_board (DsBoardCard *self,
                         DsBoard     *board)
{
  const char *port = ds_board_get_port (board);
  g_autoptr(GVariant) target = g_variant_ref_sink (g_variant_new_string (port));

  g_set_object (&self->board, board);
  gtk_label_set_text (self->name_label, ds_board_get_name (board));
  gtk_label_set_text (self->port_label, port);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->port_label), port);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->start_button), target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->cancel_button), target);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->details_button), target);
  update (self);
}

void
ds_board_card_set_connected (DsBoardCard *self,
                             gboolean     connected)
{
  if (self->disconnected == !connected)
    return;
  self->disconnected = !connected;
  update (self);
}

gboolean
ds_board_card_get_connected (DsBoardCard *self)
{
  return !self->disconnected;
}

void
ds_board_card_set_conflict (DsBoardCard *self,
                            const char  *conflict)
{
  if (g_strcmp0 (self->conflict, conflict) == 0)
    return;
  g_free (self->conflict);
  self->conflict = g_strdup (conflict);
  update (self);
}

const char *
ds_board_card_get_conflict (DsBoardCard *self)
{
  return self->conflict;
}

void
ds_board_card_set_compact (DsBoardCard *self,
                           gboolean     compact)
{
  if (self->compact == compact)
    return;
  self->compact = compact;
  update (self);
}

const char *
ds_board_card_get_qr (DsBoardCard *self)
{
  g_return_val_if_fail (DS_IS_BOARD_CARD (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->qr_view)) ? ds_qr_view_get_text (self->qr_view) : NULL;
}

const char *
ds_board_card_get_cause_word (DsBoardCard *self)
{
  flush_render (self);
  return gtk_label_get_text (self->cause_label);
}
