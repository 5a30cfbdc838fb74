// GET /embed.js: defines <build-log>. A page of any origin loads it with
// <script type="module" src="https://builds.example.com/embed.js"></script>; see the README.
export { BuildLogElement } from './js/build-log-element.js';
