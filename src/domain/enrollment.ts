/**
 * The enrollment rules of CONTRACT §2 as plain functions over plain data. No framework, no I/O:
 * a `Roster` holds the part of the database a batch touches; `applyCommand` changes it exactly as
 * the legacy `_set_user_course_enrollment` would, one command at a time, and says what changed.
 * Applying a batch's commands in order to one roster is, by construction, the sequential result.
 */

export type EnrollmentAction = 'set' | 'add' | 'deactivate';
export const ENROLLMENT_ACTIONS: readonly EnrollmentAction[] = ['set', 'add', 'deactivate'];

/** A student named by email (case-insensitive) or by id. */
export type StudentRef = { email: string } | { id: number };

/** One validated, trimmed enrollment action. */
export type EnrollmentCommand = {
  student: StudentRef;
  /** Absent only for a pure student update (PUT /admin/students/{id} without course_name). */
  courseName?: string;
  action: EnrollmentAction;
  name?: string;
  /** A new email for an existing student (PUT /admin/students/{id}). */
  newEmail?: string;
  /** The feed that sends it (CONTRACT §2); absent for a write by hand. */
  source?: string;
};

/** Which job and which file line (or command position) made a change or created a row. */
export type Origin = { job: number; line: number | null };

export type StudentState = {
  /** Database id; null until a new student is written. */
  id: number | null;
  name: string;
  email: string;
  /** What the database holds; null for a student created in this roster. */
  stored: { name: string; email: string } | null;
  /** Who created it, for a student created in this roster. */
  created?: Origin | null;
};

export type CourseState = { id: number | null; name: string };

export type EnrollmentState = {
  id: number | null;
  student: StudentState;
  course: CourseState;
  active: boolean;
  /** The database's `active`; null for an enrollment created in this roster. */
  storedActive: boolean | null;
  /** The source of the last write that made it active or found it active (CONTRACT §2). */
  source: string | null;
  storedSource: string | null;
  /** Who created it, for an enrollment created in this roster. */
  created?: Origin | null;
};

/**
 * How emails and course names are matched case-insensitively. It must fold exactly as the
 * database's `lower()` does (the unique indexes use it): JavaScript's toLowerCase differs on a
 * few letters (final sigma, dotted I), so rosters loaded from the database fold with lower().
 */
export type Fold = (s: string) => string;
export const simpleFold: Fold = (s) => s.toLowerCase();

/** The slice of the database a batch touches, keyed the way the rules look things up. */
export type Roster = {
  fold: Fold;
  studentsByEmail: Map<string, StudentState>;
  studentsById: Map<number, StudentState>;
  courses: Map<string, CourseState>;
  /** Every enrollment of every student in the roster (a `set` must see them all). */
  enrollmentsByStudent: Map<StudentState, Map<CourseState, EnrollmentState>>;
};

/** What one command did, in the counters of CONTRACT §4. */
export type Effects = {
  students_created: number;
  students_updated: number;
  enrollments_created: number;
  enrollments_activated: number;
  enrollments_deactivated: number;
};

export type ChangeKind =
  | 'student_created'
  | 'student_renamed'
  | 'student_email_changed'
  | 'enrollment_created'
  | 'enrollment_activated'
  | 'enrollment_deactivated';

/**
 * One change a command made (CONTRACT §6), with the values before and after it: names or emails
 * for a student, `active` for an enrollment (`before` is null for a creation). `ord` orders the
 * changes of one command: the student's creation, rename, email change, the command's own
 * enrollment, then the other enrollments a `set` deactivated.
 */
export type Change =
  | { kind: 'student_created'; ord: 0; student: StudentState; before: null; after: string }
  | { kind: 'student_renamed'; ord: 1; student: StudentState; before: string; after: string }
  | { kind: 'student_email_changed'; ord: 2; student: StudentState; before: string; after: string }
  | { kind: 'enrollment_created' | 'enrollment_activated' | 'enrollment_deactivated'; ord: 3 | 4; enrollment: EnrollmentState; before: boolean | null; after: boolean };

/** A command that cannot apply to the current state (decided against the database, not the input). */
export type ApplyError = { code: 'student_not_found' | 'name_required' | 'email_taken'; column: string; message: string };

export type Applied = {
  ok: true;
  effects: Effects;
  /** What it changed, in order; `effects` counts them. */
  changes: Change[];
  /** True when nothing changed: the command counts as `unchanged`. */
  unchanged: boolean;
  student: StudentState | null;
  course: CourseState | null;
  enrollment: EnrollmentState | null;
};

export type ApplyOutcome = Applied | { ok: false; error: ApplyError };

export function emptyRoster(fold: Fold = simpleFold): Roster {
  return { fold, studentsByEmail: new Map(), studentsById: new Map(), courses: new Map(), enrollmentsByStudent: new Map() };
}

/** Puts a stored student into the roster. */
export function addStoredStudent(roster: Roster, row: { id: number; name: string; email: string }): StudentState {
  const student: StudentState = { id: row.id, name: row.name, email: row.email, stored: { name: row.name, email: row.email } };
  roster.studentsByEmail.set(roster.fold(row.email), student);
  roster.studentsById.set(row.id, student);
  roster.enrollmentsByStudent.set(student, new Map());
  return student;
}

/** Puts a stored course into the roster (idempotent). */
export function addStoredCourse(roster: Roster, row: { id: number; name: string }): CourseState {
  const key = roster.fold(row.name);
  const known = roster.courses.get(key);
  if (known) return known;
  const course: CourseState = { id: row.id, name: row.name };
  roster.courses.set(key, course);
  return course;
}

/** Puts a stored enrollment into the roster; its student and course must be there already. */
export function addStoredEnrollment(
  roster: Roster,
  row: { id: number; studentId: number; courseName: string; courseId: number; active: boolean; source?: string | null },
): void {
  const student = roster.studentsById.get(row.studentId);
  if (!student) throw new Error(`enrollment ${row.id}: student ${row.studentId} not loaded`);
  const course = addStoredCourse(roster, { id: row.courseId, name: row.courseName });
  roster.enrollmentsByStudent.get(student)!.set(course, {
    id: row.id,
    student,
    course,
    active: row.active,
    storedActive: row.active,
    source: row.source ?? null,
    storedSource: row.source ?? null,
  });
}

/**
 * Applies one command to the roster, in place, and reports what it changed (CONTRACT §2, §6).
 * `origin` stamps the students and enrollments it creates.
 */
export function applyCommand(roster: Roster, cmd: EnrollmentCommand, origin: Origin | null = null): ApplyOutcome {
  const changes: Change[] = [];
  const found = 'id' in cmd.student ? roster.studentsById.get(cmd.student.id) : roster.studentsByEmail.get(roster.fold(cmd.student.email));
  let student: StudentState | null = found ?? null;

  if (!student) {
    if ('id' in cmd.student) {
      return fail('student_not_found', 'student_id', `no student with id ${cmd.student.id}`);
    }
    // `deactivate` never creates anything: a student that does not exist has nothing to deactivate.
    if (cmd.action === 'deactivate') return done(changes, null, null, null);
    if (!cmd.name) return fail('name_required', 'name', 'a new student needs a name');
    student = { id: null, name: cmd.name, email: cmd.student.email, stored: null, created: origin };
    roster.studentsByEmail.set(roster.fold(student.email), student);
    roster.enrollmentsByStudent.set(student, new Map());
    changes.push({ kind: 'student_created', ord: 0, student, before: null, after: student.name });
  } else {
    if (cmd.newEmail !== undefined && cmd.newEmail !== student.email) {
      const holder = roster.studentsByEmail.get(roster.fold(cmd.newEmail));
      if (holder && holder !== student) return fail('email_taken', 'email', `email ${cmd.newEmail} belongs to another student`);
    }
    if (cmd.name !== undefined && cmd.name !== student.name) {
      changes.push({ kind: 'student_renamed', ord: 1, student, before: student.name, after: cmd.name });
      student.name = cmd.name;
    }
    if (cmd.newEmail !== undefined && cmd.newEmail !== student.email) {
      changes.push({ kind: 'student_email_changed', ord: 2, student, before: student.email, after: cmd.newEmail });
      roster.studentsByEmail.delete(roster.fold(student.email));
      student.email = cmd.newEmail;
      roster.studentsByEmail.set(roster.fold(student.email), student);
    }
  }

  if (cmd.courseName === undefined) return done(changes, student, null, null);

  const enrollments = roster.enrollmentsByStudent.get(student)!;
  let course = roster.courses.get(roster.fold(cmd.courseName)) ?? null;
  if (cmd.action === 'deactivate') {
    const enrollment = course ? enrollments.get(course) ?? null : null;
    if (enrollment?.active) {
      enrollment.active = false;
      changes.push({ kind: 'enrollment_deactivated', ord: 3, enrollment, before: true, after: false });
    }
    return done(changes, student, course, enrollment);
  }

  if (!course) {
    course = { id: null, name: cmd.courseName };
    roster.courses.set(roster.fold(course.name), course);
  }
  let enrollment = enrollments.get(course);
  if (!enrollment) {
    enrollment = { id: null, student, course, active: true, storedActive: null, source: null, storedSource: null, created: origin };
    enrollments.set(course, enrollment);
    changes.push({ kind: 'enrollment_created', ord: 3, enrollment, before: null, after: true });
  } else if (!enrollment.active) {
    enrollment.active = true;
    changes.push({ kind: 'enrollment_activated', ord: 3, enrollment, before: false, after: true });
  }
  // A write that makes it active or finds it active takes it over (a source change alone is no change).
  enrollment.source = cmd.source ?? null;
  if (cmd.action === 'set') {
    for (const other of enrollments.values()) {
      if (other !== enrollment && other.active) {
        other.active = false;
        changes.push({ kind: 'enrollment_deactivated', ord: 4, enrollment: other, before: true, after: false });
      }
    }
  }
  return done(changes, student, course, enrollment);
}

/** The counters of CONTRACT §4 of a command's changes: a student renamed and re-emailed is updated once. */
export function effectsOf(changes: readonly Change[]): Effects {
  const effects: Effects = { students_created: 0, students_updated: 0, enrollments_created: 0, enrollments_activated: 0, enrollments_deactivated: 0 };
  for (const c of changes) {
    if (c.kind === 'student_created') effects.students_created++;
    else if (c.kind === 'enrollment_created') effects.enrollments_created++;
    else if (c.kind === 'enrollment_activated') effects.enrollments_activated++;
    else if (c.kind === 'enrollment_deactivated') effects.enrollments_deactivated++;
  }
  if (changes.some((c) => c.kind === 'student_renamed' || c.kind === 'student_email_changed')) effects.students_updated = 1;
  return effects;
}

function done(
  changes: Change[],
  student: StudentState | null,
  course: CourseState | null,
  enrollment: EnrollmentState | null,
): Applied {
  return { ok: true, effects: effectsOf(changes), changes, unchanged: changes.length === 0, student, course, enrollment };
}

function fail(code: ApplyError['code'], column: string, message: string): ApplyOutcome {
  return { ok: false, error: { code, column, message } };
}
