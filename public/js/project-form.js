/**
 * The Build form: a list of the server's projects (GET /api/projects) that fills the path
 * field, which can also be typed into (relative paths start at the first PROJECTS_ROOT).
 */
export class ProjectForm {
  constructor(form, { onSubmit }) {
    this.form = form;
    this.select = form.querySelector('#project-select');
    this.path = form.querySelector('#project-path');
    this.button = form.querySelector('button[type="submit"]');
    this.select.addEventListener('change', () => {
      if (this.select.value !== '') this.path.value = this.select.value;
    });
    this.path.addEventListener('input', () => {
      const match = [...this.select.options].find((option) => option.value === this.path.value);
      this.select.value = match ? match.value : '';
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const projectPath = this.path.value.trim();
      if (projectPath === '') return;
      this.button.disabled = true;
      try {
        await onSubmit(projectPath);
      } finally {
        this.button.disabled = false;
      }
    });
  }

  showProjects(projects) {
    const placeholder = new Option(projects.length > 0 ? 'Choose a project…' : 'No projects found', '');
    const options = projects.map((project) => {
      const option = new Option(project.hasBuildScript ? project.name : `${project.name} (no build script)`, project.path);
      option.disabled = !project.hasBuildScript;
      return option;
    });
    this.select.replaceChildren(placeholder, ...options);
    const match = options.find((option) => option.value === this.path.value);
    this.select.value = match ? match.value : '';
  }
}
