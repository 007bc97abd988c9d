import { describe, expect, it } from 'vitest';
import { countApplied, zeroCounts } from '../../src/domain/counts.js';
import {
  addStoredEnrollment,
  addStoredStudent,
  applyCommand,
  emptyRoster,
  type EnrollmentCommand,
  type Roster,
} from '../../src/domain/enrollment.js';

/** Active course names of the student with this email, sorted. */
const activeCourses = (roster: Roster, email: string) => {
  const student = roster.studentsByEmail.get(email.toLowerCase());
  if (!student) return undefined;
  return [...roster.enrollmentsByStudent.get(student)!.values()]
    .filter((e) => e.active)
    .map((e) => e.course.name)
    .sort();
};
const enrollmentCount = (roster: Roster) =>
  [...roster.enrollmentsByStudent.values()].reduce((n, m) => n + m.size, 0);

const run = (roster: Roster, commands: EnrollmentCommand[]) => {
  const counts = zeroCounts();
  const outcomes = commands.map((c) => applyCommand(roster, c));
  for (const o of outcomes) if (o.ok) countApplied(counts, o);
  return { counts, outcomes };
};

const set = (email: string, courseName: string, name?: string): EnrollmentCommand => ({
  student: { email },
  courseName,
  action: 'set',
  ...(name ? { name } : {}),
});

describe('set (the legacy _set_user_course_enrollment)', () => {
  it('creates the student, the course and an active enrollment', () => {
    const roster = emptyRoster();
    const { counts } = run(roster, [set('john@example.com', 'Mathematics 101', 'John Doe')]);
    expect(activeCourses(roster, 'john@example.com')).toEqual(['Mathematics 101']);
    expect(counts).toMatchObject({ students_created: 1, enrollments_created: 1, unchanged: 0 });
  });

  it('moving to another course leaves exactly one active enrollment and deletes nothing', () => {
    const roster = emptyRoster();
    const { counts } = run(roster, [set('john@example.com', 'Mathematics 101', 'John Doe'), set('john@example.com', 'Physics 201')]);
    expect(activeCourses(roster, 'john@example.com')).toEqual(['Physics 201']);
    expect(enrollmentCount(roster)).toBe(2);
    expect(counts).toMatchObject({ enrollments_created: 2, enrollments_deactivated: 1 });
  });

  it('joining again reactivates the old row instead of creating one', () => {
    const roster = emptyRoster();
    const { counts } = run(roster, [set('a@x.edu', 'Art', 'A'), set('a@x.edu', 'Biology'), set('A@X.EDU', 'art')]);
    expect(activeCourses(roster, 'a@x.edu')).toEqual(['Art']);
    expect(enrollmentCount(roster)).toBe(2);
    expect(counts).toMatchObject({ enrollments_created: 2, enrollments_activated: 1, enrollments_deactivated: 2 });
  });

  it('is idempotent: the second time counts as unchanged', () => {
    const roster = emptyRoster();
    const { counts } = run(roster, [set('a@x.edu', 'Art', 'A'), set('a@x.edu', 'Art', 'A')]);
    expect(counts).toMatchObject({ rows: 2, unchanged: 1, students_created: 1, enrollments_created: 1 });
  });

  it('matches emails and course names case-insensitively and keeps them as first written', () => {
    const roster = emptyRoster();
    run(roster, [set('Ana@Example.edu', 'Physics 201', 'Ana'), set('ANA@example.EDU', 'PHYSICS 201')]);
    const ana = roster.studentsByEmail.get('ana@example.edu')!;
    expect(ana.email).toBe('Ana@Example.edu');
    expect([...roster.courses.values()].map((c) => c.name)).toEqual(['Physics 201']);
  });
});

describe('add and deactivate', () => {
  it('add leaves other enrollments untouched', () => {
    const roster = emptyRoster();
    run(roster, [set('a@x.edu', 'Art', 'A'), { student: { email: 'a@x.edu' }, courseName: 'Biology', action: 'add' }]);
    expect(activeCourses(roster, 'a@x.edu')).toEqual(['Art', 'Biology']);
  });

  it('deactivate sets the enrollment inactive and never creates anything', () => {
    const roster = emptyRoster();
    const { counts, outcomes } = run(roster, [
      set('a@x.edu', 'Art', 'A'),
      { student: { email: 'a@x.edu' }, courseName: 'Art', action: 'deactivate' },
      { student: { email: 'a@x.edu' }, courseName: 'Chemistry', action: 'deactivate' },
      { student: { email: 'ghost@x.edu' }, courseName: 'Art', action: 'deactivate', name: 'Ghost' },
    ]);
    expect(activeCourses(roster, 'a@x.edu')).toEqual([]);
    expect(roster.studentsByEmail.has('ghost@x.edu')).toBe(false);
    expect(roster.courses.has('chemistry')).toBe(false);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(counts).toMatchObject({ rows: 4, enrollments_deactivated: 1, unchanged: 2 });
  });
});

describe('students', () => {
  it('a new student needs a name; the command fails and changes nothing', () => {
    const roster = emptyRoster();
    const [outcome] = run(roster, [set('new@x.edu', 'Art')]).outcomes;
    expect(outcome).toEqual({ ok: false, error: expect.objectContaining({ code: 'name_required', column: 'name' }) });
    expect(roster.studentsByEmail.size).toBe(0);
    expect(roster.courses.size).toBe(0);
  });

  it('a write with a name for an existing student renames it', () => {
    const roster = emptyRoster();
    addStoredStudent(roster, { id: 7, name: 'Old', email: 'o@x.edu' });
    const { counts } = run(roster, [set('o@x.edu', 'Art', 'New')]);
    expect(roster.studentsById.get(7)!.name).toBe('New');
    expect(counts.students_updated).toBe(1);
  });

  it('a student named by an unknown id is an error', () => {
    const [outcome] = run(emptyRoster(), [{ student: { id: 99 }, courseName: 'Art', action: 'set' }]).outcomes;
    expect(outcome).toMatchObject({ ok: false, error: { code: 'student_not_found' } });
  });

  it('changing the email to another student’s email is refused', () => {
    const roster = emptyRoster();
    addStoredStudent(roster, { id: 1, name: 'A', email: 'a@x.edu' });
    addStoredStudent(roster, { id: 2, name: 'B', email: 'b@x.edu' });
    const [taken, fine] = run(roster, [
      { student: { id: 1 }, action: 'set', newEmail: 'B@x.edu' },
      { student: { id: 1 }, action: 'set', newEmail: 'a.new@x.edu' },
    ]).outcomes;
    expect(taken).toMatchObject({ ok: false, error: { code: 'email_taken' } });
    expect(fine).toMatchObject({ ok: true, effects: { students_updated: 1 } });
    expect(roster.studentsByEmail.get('a.new@x.edu')?.id).toBe(1);
    expect(roster.studentsByEmail.has('a@x.edu')).toBe(false);
  });

  it('a set deactivates stored enrollments the batch never named', () => {
    const roster = emptyRoster();
    addStoredStudent(roster, { id: 1, name: 'A', email: 'a@x.edu' });
    addStoredEnrollment(roster, { id: 10, studentId: 1, courseId: 5, courseName: 'History', active: true });
    addStoredEnrollment(roster, { id: 11, studentId: 1, courseId: 6, courseName: 'Art', active: true });
    run(roster, [set('a@x.edu', 'Physics')]);
    expect(activeCourses(roster, 'a@x.edu')).toEqual(['Physics']);
  });
});
